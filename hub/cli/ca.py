"""``lienthong ca …``: the certificate authorities the hub trusts and their revocation lists."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography import x509
from rich.table import Table

from hub import config, home
from hub.cli.console import JsonFlag, Steps, emit_json, out, read, run, warn
from hub.db import Q, connect
from hub.errors import CertificateRefused, Code
from hub.registry import pki, registry, revocation

ca_app = typer.Typer(help="Certificate authorities the hub trusts.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(ca_app, name="ca")


@ca_app.command("list")
def ca_list(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """The CAs the hub trusts (and those untrusted since), with their SHA-256 fingerprints
    (compare them out of band)."""

    async def work(settings: config.Settings) -> list[Any]:
        db = await connect(settings.database_url)
        try:
            return list(await db.fetch(Q.ca_list_all))
        finally:
            await db.close()

    rows = [
        {
            "fingerprint_sha256": bytes(r["fingerprint"]).hex(),
            "subject": r["subject"],
            "not_after": r["not_after"].isoformat(),
            "source": r["source"],
            "untrusted_at": r["untrusted_at"].isoformat() if r["untrusted_at"] else None,
        }
        for r in run(work)
    ]
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return
    table = Table("subject", "SHA-256 fingerprint", "valid until", "source", "state")
    for r in rows:
        state = f"untrusted {r['untrusted_at'][:10]}" if r["untrusted_at"] else "trusted"
        table.add_row(
            r["subject"], r["fingerprint_sha256"], r["not_after"][:10], r["source"], state
        )
    out.print(table)


@ca_app.command("untrust")
def ca_untrust(
    fingerprint: Annotated[
        str, typer.Argument(help="its SHA-256 fingerprint, or its first 16 or more hex digits")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Stop trusting a CA: what it issued is refused from now on (CERT_UNTRUSTED); it stays on
    record, and `ca trust` trusts it again. Not the CA of the hub's own certificate."""

    async def work(settings: config.Settings) -> tuple[str, bool]:
        identity = home.load_hub_identity(settings)
        db = await connect(settings.database_url)
        try:
            return await registry.untrust_ca(db, fingerprint, identity.cert)
        finally:
            await db.close()

    subject, now = run(work)
    if as_json:
        emit_json({"subject": subject, "untrusted_now": now})
        return
    out.print(f"{subject}: {'no longer trusted' if now else 'was not trusted'}", highlight=False)


@ca_app.command("init")
def ca_init() -> None:
    """Make a development CA and the hub's signing key under LIENTHONG_HOME, and trust the CA."""

    async def work(settings: config.Settings) -> None:
        made = home.init_dev_ca(settings)
        db = await connect(settings.database_url)
        try:
            trusted, warnings = await registry.trust_ca(db, made.ca.cert, source="development")
        finally:
            await db.close()
        warn(warnings)
        state = "created" if made.created_ca else "kept"
        out.print(f"{state} development CA {made.ca.cert_path}")
        state = "created" if made.created_hub else "kept"
        out.print(
            f"{state} hub signing key {made.hub.key_path} and certificate {made.hub.cert_path}"
        )
        out.print("the development CA is " + ("now trusted" if trusted else "already trusted"))

    run(work)


@ca_app.command("trust")
def ca_trust(
    pem: Annotated[Path, typer.Argument(help="the CA certificate (PEM or DER)")],
    as_json: JsonFlag = False,
) -> None:
    """Trust another CA (an agency's real CA)."""

    async def work(settings: config.Settings) -> list[dict[str, object]]:
        certs = _read_certificates(pem)
        db = await connect(settings.database_url)
        done = []
        try:
            for cert in certs:
                trusted, warnings = await registry.trust_ca(db, cert, source="operator")
                warn(warnings)
                done.append(
                    {
                        "subject": cert.subject.rfc4514_string(),
                        "fingerprint_sha256": pki.fingerprint(cert).hex(),
                        "trusted_now": trusted,
                    }
                )
        finally:
            await db.close()
        return done

    done = run(work)
    if as_json:
        emit_json(done)
        return
    for item in done:
        verb = "now trusted" if item["trusted_now"] else "already trusted"
        out.print(f"{item['subject']}: {verb}", highlight=False)


crl_app = typer.Typer(help="Certificate revocation lists.", no_args_is_help=True)
ca_app.add_typer(crl_app, name="crl")


@crl_app.command("add")
def crl_add(
    crl: Annotated[Path, typer.Argument(help="the CRL (PEM or DER)")], as_json: JsonFlag = False
) -> None:
    """Load a trusted CA's certificate revocation list (refuses one no trusted CA signed)."""
    from hub.registry import revocation

    async def work(settings: config.Settings) -> revocation.LoadedCrl:
        db = await connect(settings.database_url)
        try:
            return await revocation.add(db, read(crl))
        finally:
            await db.close()

    loaded = run(work)
    if as_json:
        emit_json(
            {
                "issuer": loaded.issuer,
                "revoked": loaded.revoked,
                "this_update": loaded.this_update,
                "next_update": loaded.next_update,
            }
        )
        return
    until = f", next update {loaded.next_update[:16]}" if loaded.next_update else ""
    out.print(
        f"loaded the CRL of {loaded.issuer}: {loaded.revoked} revoked certificate(s), "
        f"issued {loaded.this_update[:16]}{until}",
        highlight=False,
    )


@crl_app.command("url")
def crl_url(
    ca: Annotated[str, typer.Argument(help="the CA: SHA-256 fingerprint (a prefix) or name")],
    url: Annotated[str, typer.Argument(help="its CRL distribution point (http, https, file)")],
) -> None:
    """Refresh a CA's CRL from this URL (every LIENTHONG_CRL_REFRESH_SECONDS)."""
    from hub.registry import revocation

    async def work(settings: config.Settings) -> str:
        db = await connect(settings.database_url)
        try:
            return await revocation.set_url(db, ca, url)
        finally:
            await db.close()

    out.print(f"the CRL of {run(work)} is refreshed from {url}", highlight=False)


@crl_app.command("refresh")
def crl_refresh(as_json: JsonFlag = False) -> None:
    """Fetch every configured distribution point now."""
    from hub.registry import revocation

    steps = Steps()

    async def work(settings: config.Settings) -> list[revocation.Refreshed]:
        db = await connect(settings.database_url)
        try:
            with steps.progress:
                return await revocation.refresh(db, step=lambda ca: steps(f"CRL of {ca}"))
        finally:
            await db.close()

    done = run(work)
    if as_json:
        emit_json([{"ca": i.ca, "url": i.url, "outcome": i.outcome} for i in done])
    for item in [] if as_json else done:
        out.print(f"{item.ca}: {item.outcome} ({item.url})", highlight=False)
    if any(item.outcome.startswith("failed") for item in done):
        raise typer.Exit(1)


@crl_app.command("status")
def crl_status(as_json: JsonFlag = False) -> None:
    """Each trusted CA's latest CRL: when issued, when the next is due, stale or not."""
    from hub.registry import revocation

    async def work(settings: config.Settings) -> list[revocation.CrlState]:
        db = await connect(settings.database_url)
        try:
            return await revocation.states(db)
        finally:
            await db.close()

    now = pki.utcnow()
    found = run(work)
    if as_json:
        emit_json(
            [
                {
                    "ca": c.ca,
                    "fingerprint": c.fingerprint,
                    "url": c.url,
                    "this_update": c.this_update,
                    "next_update": c.next_update,
                    "state": "none"
                    if c.this_update is None
                    else ("stale" if c.stale(now) else "fresh"),
                }
                for c in found
            ]
        )
        return
    table = Table("CA", "CRL issued", "next due", "state", "source")
    for s in found:
        state = "no CRL" if s.this_update is None else ("STALE" if s.stale(now) else "fresh")
        table.add_row(
            s.ca,
            f"{s.this_update:%Y-%m-%d %H:%M}" if s.this_update else "—",
            f"{s.next_update:%Y-%m-%d %H:%M}" if s.next_update else "—",
            state,
            s.url or "—",
        )
    out.print(table)


@ca_app.command("expiring")
def ca_expiring(
    days: Annotated[int, typer.Option("--days", help="within this many days")] = 30,
    as_json: JsonFlag = False,
) -> None:
    """Agency certificates and trusted CAs that expire within --days (or have expired);
    retired certificates are left out."""

    async def work(settings: config.Settings) -> list[Any]:
        db = await connect(settings.database_url)
        try:
            return list(
                await db.fetch(Q.certificates_expiring, pki.utcnow() + dt.timedelta(days=days))
            )
        finally:
            await db.close()

    rows = run(work)
    if as_json:
        emit_json(
            [
                {
                    "what": r["what"],
                    "organ_id": r["owner"],
                    "subject": r["subject"],
                    "fingerprint": bytes(r["fingerprint"]).hex(),
                    "not_after": r["not_after"],
                }
                for r in rows
            ]
        )
        return
    if not rows:
        out.print(f"no certificate expires within {days} days")
        return
    table = Table("expires", "what", "agency", "subject", "SHA-256")
    for r in rows:
        table.add_row(
            f"{r['not_after']:%Y-%m-%d}",
            r["what"],
            r["owner"] or "—",
            r["subject"],
            bytes(r["fingerprint"]).hex()[:16],
        )
    out.print(table)


def _read_certificates(path: Path) -> list[x509.Certificate]:
    try:
        return pki.load_certificates(path.read_bytes())
    except OSError as exc:
        raise CertificateRefused(Code.CERT_UNTRUSTED, f"cannot read {path}: {exc}") from exc
