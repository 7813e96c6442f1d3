"""``lienthong audit …`` and ``lienthong evidence …`` (docs/AUDIT.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub import home
from hub.audit import audit, evidence, seal
from hub.cli.console import JsonFlag, Steps, emit_json, err, fail, out, read, run
from hub.config import Settings
from hub.db import Q, connect
from hub.errors import HubError
from hub.record.receipt import HubSigner
from hub.registry import pki

audit_app = typer.Typer(help="The tamper-evident event log: verify, seal.", no_args_is_help=True)
evidence_app = typer.Typer(help="Evidence bundles anyone can check offline.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
    app.add_typer(evidence_app, name="evidence")


def _signer(settings: Settings) -> HubSigner:
    identity = home.load_hub_identity(settings)
    return HubSigner(key=identity.key, cert=identity.cert)


@audit_app.command("verify")
def audit_verify(as_json: JsonFlag = False) -> None:
    """Walk every chain and seal; name the first broken link (exit 1 when one is found)."""
    steps = Steps()

    async def work(settings: Settings) -> audit.AuditReport:
        db = await connect(settings.database_url)
        try:
            with steps.progress:
                steps("walking the chains", int(await db.fetchval(Q.event_count)))
                return await audit.verify(db, walked=steps.count)
        finally:
            await db.close()

    report = run(work)
    if as_json:
        emit_json(
            {
                "intact": report.ok,
                "links": report.links,
                "chains": report.chains,
                "seals": report.seals,
                "last_seal_at": report.last_seal_at,
                "unchained": report.unchained,
                "findings": [{"where": f.where, "what": f.what} for f in report.findings],
                "restores": [
                    {"restored_at": at, "backup_taken_at": taken} for at, taken in report.restores
                ],
            }
        )
        if not report.ok:
            raise typer.Exit(1)
        return
    summary = (
        f"{report.links} links in {report.chains} chains, {report.seals} seals"
        + (f" (last {report.last_seal_at[:19]}Z)" if report.last_seal_at else "")
        + (f", {report.unchained} written before chaining" if report.unchained else "")
    )
    for restored_at, taken_at in report.restores:
        out.print(
            f"restored {restored_at[:19]}Z from a backup taken {taken_at[:19]}Z: these records "
            "end there and go on after the restore; links a hub wrote between the two are not "
            "in them (a restore, not tampering: the restore is itself a link)",
            highlight=False,
        )
    if report.ok:
        out.print(f"[green]intact:[/] {summary}", highlight=False)
        return
    first, *rest = report.findings
    err.print(f"[bold red]broken:[/] {first}", highlight=False)
    for finding in rest:
        err.print(f"  also: {finding}", highlight=False)
    err.print(f"checked {summary}; {len(report.findings)} finding(s)", highlight=False)
    raise typer.Exit(1)


@audit_app.command("seal")
def audit_seal(as_json: JsonFlag = False) -> None:
    """Seal the chain heads now (the hub also seals every LIENTHONG_SEAL_SECONDS)."""

    async def work(settings: Settings) -> seal.Sealed | None:
        db = await connect(settings.database_url)
        try:
            return await seal.seal(db, _signer(settings))
        finally:
            await db.close()

    sealed = run(work)
    if as_json:
        emit_json(
            None
            if sealed is None
            else {"seal": sealed.seq, "chains": sealed.chains, "root": sealed.root}
        )
        return
    if sealed is None:
        out.print("nothing new to seal (or another hub process is sealing)")
    else:
        out.print(f"seal {sealed.seq}: {sealed.chains} chain heads, root {sealed.root[:16]}…")


@evidence_app.command("export")
def evidence_export(
    document_id: Annotated[str, typer.Argument(help="the DocumentId")],
    output: Annotated[Path, typer.Option("-o", "--output", help="the bundle to write (.zip)")],
    sender: Annotated[
        str | None, typer.Option("--sender", help="the sender's OrganId, if the id is ambiguous")
    ] = None,
) -> None:
    """Write everything about one document, with the chain links and seals that prove it."""

    steps = Steps()

    async def work(settings: Settings) -> bytes:
        db = await connect(settings.database_url)
        try:
            with steps.progress:
                steps(f"collecting {document_id}: records, links, seals, signing the manifest")
                return await evidence.export(db, document_id, _signer(settings), sender=sender)
        finally:
            await db.close()

    data = run(work)
    try:
        output.write_bytes(data)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}")
    out.print(f"wrote {output} ({len(data)} bytes)")


@evidence_app.command("verify")
def evidence_verify(
    bundle: Annotated[Path, typer.Argument(help="the bundle (.zip)")],
    ca: Annotated[Path, typer.Option("--ca", help="the CA certificate(s) you trust (PEM)")],
    as_json: JsonFlag = False,
) -> None:
    """Check a bundle offline: exit 0 when everything in it holds, 1 naming what does not."""
    try:
        trusted = pki.load_certificates(read(ca))
        report = evidence.verify(read(bundle), trusted)
    except HubError as exc:
        fail(str(exc))
    if as_json:
        emit_json(
            {
                "verified": report.ok,
                "document_id": report.document_id,
                "sender": report.sender,
                "checked": report.checked,
                "notes": report.notes,
                "problems": report.problems,
            }
        )
        if not report.ok:
            raise typer.Exit(1)
        return
    title = f"document {report.document_id} from {report.sender}"
    if report.ok:
        out.print(f"[green]verified:[/] {title}", highlight=False)
        for line in report.checked:
            out.print(f"  ✓ {line}", highlight=False)
        for line in report.notes:
            out.print(f"  note: {line}", highlight=False)
        return
    err.print(f"[bold red]NOT VERIFIED:[/] {report.problems[0]}", highlight=False)
    for line in report.problems[1:]:
        err.print(f"  also: {line}", highlight=False)
    raise typer.Exit(1)
