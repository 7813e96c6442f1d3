"""``lienthong system …``, ``lienthong directory …``, ``agency move`` and ``agency close``
(contract, version 2: connected systems, the directory, identifier changes)."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from hub.check.decision import local_date
from hub.cli.console import err, out, read, run, warn
from hub.config import Settings
from hub.db import Q, connect
from hub.errors import HubError
from hub.registry import directory, registry, systems
from hub.session import open_session
from hub.vxp import secrets

system_app = typer.Typer(
    help="Connected systems: what connects on behalf of the agencies it hosts.",
    no_args_is_help=True,
)
directory_app = typer.Typer(help="The national directory, in bulk.", no_args_is_help=True)


def register(app: typer.Typer, agency_app: typer.Typer) -> None:
    app.add_typer(system_app, name="system")
    app.add_typer(directory_app, name="directory")
    agency_app.command("move")(agency_move)
    agency_app.command("close")(agency_close)


@system_app.command("add")
def system_add(
    system_id: Annotated[str, typer.Argument(help="system id, e.g. vxp.saas.02")],
    name: Annotated[str, typer.Option("--name", help="the system's name")],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Register a system: broker user, inboxes, gateway token, national-SDK secret."""

    async def work(settings: Settings) -> systems.SystemCredentials:
        async with open_session(settings) as session, session.db.transaction():
            return await systems.add_system(
                session.db,
                session.management,
                session.channel,
                settings,
                system_id=system_id,
                name=name,
            )

    made = run(work)
    if as_json:
        sys.stdout.write(json.dumps(made.as_json(), ensure_ascii=False) + "\n")
        return
    out.print(f"registered system {made.system_id} ({made.name})", highlight=False)
    out.print(f"  RabbitMQ user      {made.amqp_user}")
    out.print(f"  RabbitMQ password  {made.amqp_password}   (shown once)")
    out.print(f"  gateway token      {made.http_token}   (shown once)")
    out.print(f"  national-SDK key   {made.vxp_secret}   (shown once)")


@system_app.command("list")
def system_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Systems with their state, policy and how many agencies each hosts."""

    async def work(settings: Settings) -> list[dict[str, object]]:
        db = await connect(settings.database_url)
        try:
            rows = await systems.list_systems(db)
        finally:
            await db.close()
        return [
            {
                "system_id": r["system_id"],
                "name": r["name"],
                "state": r["state"],
                "unsigned": r["unsigned_policy"],
                "agencies": r["agencies"],
                "last_seen": r["last_seen_at"].isoformat() if r["last_seen_at"] else None,
            }
            for r in rows
        ]

    rows = run(work)
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return
    table = Table("system", "name", "state", "unsigned", "agencies", "last seen")
    for r in rows:
        table.add_row(*(str(r[k] if r[k] is not None else "—") for k in r))
    out.print(table)


def _system_state(system_id: str, state: str) -> None:
    async def work(settings: Settings) -> bool:
        db = await connect(settings.database_url)
        try:
            return await systems.set_state(db, system_id, state)
        finally:
            await db.close()

    changed = run(work)
    verb = "suspended" if state == "suspended" else "resumed"
    out.print(
        f"system {system_id} {verb}" if changed else f"system {system_id} was already {state}"
    )


@system_app.command("suspend")
def system_suspend(system_id: str) -> None:
    """Suspend a system: as if each agency it hosts were suspended."""
    _system_state(system_id, "suspended")


@system_app.command("resume")
def system_resume(system_id: str) -> None:
    """Resume a suspended system."""
    _system_state(system_id, "active")


@system_app.command("policy")
def system_policy(
    system_id: str,
    unsigned: Annotated[
        str, typer.Option("--unsigned", help="accept or refuse packages without XML-DSig")
    ],
) -> None:
    """What the hub does with an unsigned package from this system (national SDK)."""

    async def work(settings: Settings) -> None:
        db = await connect(settings.database_url)
        try:
            await systems.set_policy(db, system_id, unsigned)
        finally:
            await db.close()

    run(work)
    out.print(f"system {system_id}: unsigned packages {unsigned}ed", highlight=False)


@system_app.command("reset")
def system_reset(
    system_id: str,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """New broker password, gateway token and national-SDK secret for a system, shown once;
    the old ones stop working at once (lost or leaked credentials)."""

    async def work(settings: Settings) -> systems.SystemCredentials:
        async with open_session(settings) as session, session.db.transaction():
            return await systems.reset_access(session.db, session.management, settings, system_id)

    made = run(work)
    if as_json:
        sys.stdout.write(json.dumps(made.as_json(), ensure_ascii=False) + "\n")
        return
    out.print(f"system {system_id}: new credentials (shown once; the old ones no longer work)")
    out.print(f"  RabbitMQ password  {made.amqp_password}")
    out.print(f"  gateway token      {made.http_token}")
    out.print(f"  national-SDK key   {made.vxp_secret}")


secret_app = typer.Typer(help="The system's national-SDK secret.", no_args_is_help=True)
system_app.add_typer(secret_app, name="secret")


@secret_app.command("rotate")
def system_secret_rotate(
    system_id: str,
    grace_hours: Annotated[
        float,
        typer.Option("--grace-hours", help="how long the current secret stays valid (0: not)"),
    ] = secrets.GRACE.total_seconds() / 3600,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Issue a new national-SDK secret (shown once); the current one stays valid for the grace
    period, so the system can change its SDK's configuration without a gap."""

    async def work(settings: Settings) -> secrets.Rotated:
        db = await connect(settings.database_url)
        try:
            async with db.transaction():
                return await secrets.rotate(
                    db,
                    secrets.SecretBox.of(settings),
                    system_id,
                    grace=dt.timedelta(hours=max(0.0, grace_hours)),
                )
        finally:
            await db.close()

    rotated = run(work)
    if as_json:
        out.print_json(
            data={
                "system_id": rotated.system_id,
                "vxp_secret": rotated.secret,
                "previous_valid_until": rotated.previous_until.isoformat(),
            }
        )
        return
    out.print(f"system {system_id}: new national-SDK key   {rotated.secret}   (shown once)")
    out.print(
        f"  the previous key stays valid until {rotated.previous_until:%Y-%m-%d %H:%M %Z}",
        highlight=False,
    )


def agency_move(
    organ_id: str,
    system: Annotated[str, typer.Option("--system", help="the system that hosts it from now on")],
) -> None:
    """Host an agency on another system from now on (its next delivery goes there)."""

    async def work(settings: Settings) -> bool:
        db = await connect(settings.database_url)
        try:
            return await registry.move_agency(db, organ_id, system)
        finally:
            await db.close()

    moved = run(work)
    out.print(
        f"agency {organ_id} is hosted by {system}" + ("" if moved else " (it already was)"),
        highlight=False,
    )


def agency_close(
    organ_id: str,
    successor: Annotated[str, typer.Option("--successor", help="the OrganId that replaces it")],
    on: Annotated[
        str | None, typer.Option("--on", help="closing date YYYY-MM-DD (default: today)")
    ] = None,
) -> None:
    """An identifier change (QĐ 09/2025/QĐ-TTg): from that date packages to the old id reach
    the successor, and packages sent as the old id are refused (SENDER_CLOSED)."""
    try:
        day = dt.date.fromisoformat(on) if on else local_date(dt.datetime.now(dt.UTC))
    except ValueError:
        err.print(f"[bold red]error:[/] --on {on!r} is not a date (YYYY-MM-DD)", highlight=False)
        raise typer.Exit(1) from None

    async def work(settings: Settings) -> None:
        db = await connect(settings.database_url)
        try:
            await directory.close(db, organ_id, successor, day)
        finally:
            await db.close()

    run(work)
    out.print(f"{organ_id} closes on {day.isoformat()}; its successor is {successor}")


@directory_app.command("import")
def directory_import(
    file: Annotated[Path, typer.Argument(help="CSV (with a header) or JSON (an array)")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv or json (default: from the suffix)")
    ] = None,
    partial: Annotated[
        bool,
        typer.Option(
            "--partial", help="apply the valid lines even when some are refused (default: none)"
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Add or update agencies in bulk (organ_id, name, parent_id, system_id, state,
    successor_id[, closed_on]) in one transaction, while the hub runs."""
    kind = fmt or ("json" if file.suffix.lower() == ".json" else "csv")
    if kind not in ("csv", "json"):
        raise typer.BadParameter("--format is csv or json")
    data = read(file)

    async def work(settings: Settings) -> tuple[directory.Plan, bool, float]:
        started = time.perf_counter()
        rows = directory.read(data, kind)
        db = await connect(settings.database_url)
        try:
            with Progress(console=err, transient=True, disable=as_json) as progress:
                task = progress.add_task("checking", total=None)
                known = await directory.known(db)
                decided = directory.plan(rows, known, local_date(dt.datetime.now(dt.UTC)))
                applied = False
                if decided.writes and (partial or not decided.refused):
                    progress.update(task, description=f"writing {len(decided.writes)} agencies")
                    await directory.apply(db, decided, source=data)
                    applied = True
        finally:
            await db.close()
        return decided, applied, time.perf_counter() - started

    decided, applied, seconds = run(work)
    summary = {**decided.summary(), "applied": applied, "seconds": round(seconds, 2)}
    if as_json:
        sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
    else:
        verb = "applied" if applied else "NOT applied"
        out.print(
            f"{file}: {len(decided.added)} added, {len(decided.changed)} changed, "
            f"{decided.unchanged} unchanged, {decided.closed} closed, "
            f"{len(decided.refused)} refused — {verb} in {seconds:.1f} s",
            highlight=False,
        )
        for refusal in decided.refused[:50]:
            out.print(
                f"  line {refusal.line}: {refusal.organ_id or '(no id)'}: {refusal.reason}",
                highlight=False,
            )
        if len(decided.refused) > 50:
            out.print(f"  … and {len(decided.refused) - 50} more (--json lists them all)")
    if decided.refused and not partial:
        warn(["nothing was applied: fix the refused lines, or apply the rest with --partial"])
        raise typer.Exit(1)


@directory_app.command("export")
def directory_export(
    fmt: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
    output: Annotated[Path | None, typer.Option("-o", "--output")] = None,
) -> None:
    """Every agency, in the import's columns (and closed_on)."""
    if fmt not in ("csv", "json"):
        raise typer.BadParameter("--format is csv or json")

    async def work(settings: Settings) -> str:
        db = await connect(settings.database_url)
        try:
            return directory.export(await db.fetch(Q.directory_all), fmt)
        finally:
            await db.close()

    text = run(work)
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise HubError(f"cannot write {output}: {exc.strerror}") from exc
