"""``lienthong agency …``: register, list, suspend, resume; certificates and CSRs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hub import config, home
from hub.cli.console import fail, out, read, run, warn
from hub.db import connect
from hub.registry import issuing, pki, registry
from hub.session import open_session

agency_app = typer.Typer(
    help="Agencies: register, suspend, resume, certificates.", no_args_is_help=True
)
cert_app = typer.Typer(help="An agency's signing certificates.", no_args_is_help=True)
agency_app.add_typer(cert_app, name="cert")
csr_app = typer.Typer(
    help="Certificate signing requests: the agency keeps its key.", no_args_is_help=True
)
agency_app.add_typer(csr_app, name="csr")


def register(app: typer.Typer) -> typer.Typer:
    app.add_typer(agency_app, name="agency")
    return agency_app


@agency_app.command("add")
def agency_add(
    organ_id: Annotated[str, typer.Argument(help="OrganId, e.g. 000.00.00.G22")],
    name: Annotated[str, typer.Option("--name", help="the agency's name")],
    cert: Annotated[
        list[Path] | None, typer.Option("--cert", help="a signing certificate (PEM); repeatable")
    ] = None,
    issue: Annotated[
        bool, typer.Option("--issue", help="make a key and certificate from the development CA")
    ] = False,
    legacy: Annotated[
        bool, typer.Option("--legacy", help="accept an OrganId not of the national form")
    ] = False,
    key_type: Annotated[str, typer.Option("--key-type", help="with --issue: rsa or ec")] = "rsa",
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    system: Annotated[
        str | None,
        typer.Option("--system", help="the system that hosts it (default: its own system)"),
    ] = None,
    parent: Annotated[
        str | None, typer.Option("--parent", help="the agency it belongs to (directory tree)")
    ] = None,
) -> None:
    """Register an agency with its certificates. Without --system it is its own system: broker
    user, permissions, inboxes, gateway token; with --system it uses that system's."""
    if key_type not in ("rsa", "ec"):
        fail(f"--key-type {key_type!r}: use rsa or ec")

    async def work(settings: config.Settings) -> registry.AgencyCredentials:
        request = registry.AgencyRequest(
            organ_id=organ_id,
            name=name,
            certificates=tuple(read(p) for p in cert or ()),
            issue=issue,
            legacy=legacy,
            key_kind=key_type,
            system=system,
            parent=parent,
        )
        async with open_session(settings) as session:
            return await registry.add_agency(
                session.db, session.management, session.channel, settings, request
            )

    credentials = run(work)
    warn(credentials.warnings)
    if issue:
        warn(
            [
                "--issue made the agency's private key here and keeps it under LIENTHONG_HOME: "
                "for development and tests only. In production the agency makes its key itself "
                "and sends a certificate signing request: lienthong agency csr sign "
                f"{organ_id} request.csr (or registers a certificate of its own CA: --cert)"
            ]
        )
    if as_json:
        sys.stdout.write(json.dumps(credentials.as_json(), ensure_ascii=False) + "\n")
        return
    out.print(f"registered agency {credentials.organ_id} ({credentials.name})", highlight=False)
    if credentials.amqp_password is None:
        out.print(f"  hosted by system   {credentials.system_id} (its credentials)")
    else:
        out.print(f"  RabbitMQ user      {credentials.amqp_user}")
        out.print(f"  RabbitMQ password  {credentials.amqp_password}   (shown once)")
        out.print(f"  gateway token      {credentials.http_token}   (shown once)")
        out.print(f"  national-SDK key   {credentials.vxp_secret}   (shown once)")
    for c in credentials.certificates:
        out.print(
            f"  certificate        {c.subject} {c.key_type} until {c.not_after[:10]}",
            highlight=False,
        )
    if credentials.key_path is not None:
        out.print(f"  key                {credentials.key_path}")
        out.print(f"  certificate file   {credentials.cert_path}")


@agency_app.command("list")
def agency_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List registered agencies with their state and certificates."""

    async def work(settings: config.Settings) -> list[dict[str, object]]:
        db = await connect(settings.database_url)
        try:
            rows = await registry.list_agencies(db)
        finally:
            await db.close()
        return [
            {
                "organ_id": r["organ_id"],
                "name": r["name"],
                "state": r["state"],
                "system_id": r["system_id"],
                "parent_id": r["parent_id"],
                "successor_id": r["successor_id"],
                "legacy_id": r["legacy_id"],
                "certificates": r["certificates"],
                "latest_cert_expiry": r["latest_cert_expiry"].isoformat()
                if r["latest_cert_expiry"]
                else None,
                "last_seen_at": r["last_seen_at"].isoformat() if r["last_seen_at"] else None,
            }
            for r in rows
        ]

    agencies = run(work)
    if as_json:
        sys.stdout.write(json.dumps(agencies, ensure_ascii=False) + "\n")
        return
    table = Table(
        "OrganId", "name", "state", "system", "certificates", "latest expiry", "last seen"
    )
    for a in agencies:
        closed = f" → {a['successor_id']}" if a["successor_id"] else ""
        table.add_row(
            str(a["organ_id"]),
            str(a["name"]),
            str(a["state"]) + closed,
            str(a["system_id"]),
            str(a["certificates"]),
            str(a["latest_cert_expiry"] or "")[:10],
            str(a["last_seen_at"] or "never")[:19],
        )
    out.print(table)


def _set_state(organ_id: str, state: str) -> None:
    async def work(settings: config.Settings) -> bool:
        db = await connect(settings.database_url)
        try:
            return await registry.set_state(db, organ_id, state)
        finally:
            await db.close()

    changed = run(work)
    verb = "suspended" if state == "suspended" else "resumed"
    out.print(f"agency {organ_id} {verb}" if changed else f"agency {organ_id} was already {state}")


@agency_app.command("suspend")
def agency_suspend(organ_id: str) -> None:
    """Refuse the agency's new submissions and new packages addressed to it."""
    _set_state(organ_id, "suspended")


@agency_app.command("resume")
def agency_resume(organ_id: str) -> None:
    """Lift a suspension."""
    _set_state(organ_id, "active")


@cert_app.command("add")
def agency_cert_add(
    organ_id: str,
    pem: Annotated[Path, typer.Argument(help="the certificate (PEM), intermediates after it")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Register another signing certificate for an agency (a renewal)."""

    async def work(
        settings: config.Settings,
    ) -> tuple[registry.RegisteredCertificate, tuple[str, ...]]:
        db = await connect(settings.database_url)
        try:
            return await registry.add_certificate(db, organ_id, read(pem))
        finally:
            await db.close()

    registered, warnings = run(work)
    warn(warnings)
    if as_json:
        sys.stdout.write(
            json.dumps(
                {
                    "organ_id": organ_id,
                    "subject": registered.subject,
                    "key_type": registered.key_type,
                    "not_after": registered.not_after,
                    "fingerprint": registered.fingerprint,
                }
            )
            + "\n"
        )
        return
    out.print(
        f"registered certificate {registered.subject} ({registered.key_type}, until "
        f"{registered.not_after[:10]}) for {organ_id}; fingerprint {registered.fingerprint}",
        highlight=False,
    )


@csr_app.command("sign")
def agency_csr_sign(
    organ_id: str,
    request: Annotated[Path, typer.Argument(help="the agency's certificate signing request")],
    output: Annotated[Path, typer.Option("-o", "--output", help="where to write the certificate")],
    days: Annotated[int, typer.Option("--days", help="validity in days")] = 730,
) -> None:
    """Certify a key the agency made itself, with the development CA, and register it.

    The agency keeps its private key: make one and its request with, for example,
    openssl req -new -newkey rsa:3072 -nodes -keyout agency.key -subj "/CN=Agency" -out a.csr
    """

    async def work(
        settings: config.Settings,
    ) -> tuple[registry.RegisteredCertificate, tuple[str, ...]]:
        ca = home.load_dev_ca(settings)
        cert = issuing.sign_request(ca.key, ca.cert, read(request), organ_id=organ_id, days=days)
        db = await connect(settings.database_url)
        try:
            done = await registry.add_certificate(db, organ_id, pki.pem(cert).encode())
        finally:
            await db.close()
        home.write_public(output, pki.pem(cert).encode())
        return done

    registered, warnings = run(work)
    warn(warnings)
    out.print(
        f"certified and registered {registered.subject} ({registered.key_type}, until "
        f"{registered.not_after[:10]}) for {organ_id}: {output}",
        highlight=False,
    )


@cert_app.command("list")
def agency_cert_list(
    organ_id: Annotated[str | None, typer.Argument(help="one agency (default: all)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Agency certificates with their SHA-256 fingerprints, retired ones too."""
    from hub.registry import certificates

    async def work(settings: config.Settings) -> list[certificates.Certificate]:
        db = await connect(settings.database_url)
        try:
            return await certificates.list_certificates(db, organ_id)
        finally:
            await db.close()

    found = run(work)
    if as_json:
        sys.stdout.write(json.dumps([c.as_json() for c in found], indent=2) + "\n")
        return
    table = Table("agency", "subject", "until", "state", "SHA-256 fingerprint")
    for c in found:
        state = f"retired {c.retired_at[:10]}" if c.retired_at else "in use"
        table.add_row(c.organ_id, c.subject, c.not_after[:10], state, c.fingerprint)
    out.print(table)


@cert_app.command("retire")
def agency_cert_retire(
    fingerprint: Annotated[
        str, typer.Argument(help="its SHA-256 fingerprint, or its first 16 or more hex digits")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Retire a certificate: it signs nothing new and leaves the expiry alerts, but stays on
    record for the documents it signed (audited)."""
    from hub.registry import certificates

    async def work(settings: config.Settings) -> tuple[str, str, bool]:
        db = await connect(settings.database_url)
        try:
            return await certificates.retire(db, fingerprint)
        finally:
            await db.close()

    organ_id, full, now = run(work)
    if as_json:
        sys.stdout.write(
            json.dumps({"organ_id": organ_id, "fingerprint": full, "retired_now": now}) + "\n"
        )
        return
    said = "retired" if now else "was already retired"
    out.print(f"certificate {full} of {organ_id} {said}", highlight=False)
