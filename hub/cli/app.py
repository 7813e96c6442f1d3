"""``lienthong``: the hub's command line (contract: docs/PROTOCOL.md, "Command line").

:func:`build` assembles the hub's commands; ``tools.cli`` adds the agency-side commands, the
demo and the bench to make the ``lienthong`` program.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hub import __version__, config, logs
from hub.cli import agencies, audit, backups, ca, directory, retention
from hub.cli.console import err, out, run
from hub.db import connect
from hub.db.migrate import migrate as run_migrations
from hub.errors import HubError
from hub.vxp.secrets import SecretBox, seal_plaintext


def build() -> typer.Typer:
    """The hub's commands on a new root."""
    app = typer.Typer(
        name="lienthong",
        help="lienthong — the national electronic document interchange hub "
        "(Trục liên thông văn bản).",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.callback()(root)
    app.command("migrate")(migrate_command)
    app.command("serve")(serve_command)
    operator_app = typer.Typer(help="Operator accounts (viewer, admin).", no_args_is_help=True)
    operator_app.command("add")(operator_add)
    operator_app.command("list")(operator_list)
    operator_app.command("revoke")(operator_revoke)
    app.add_typer(operator_app, name="operator")
    agency_app = agencies.register(app)
    audit.register(app)
    backups.register(app)
    retention.register(app)
    ca.register(app)
    directory.register(app, agency_app)
    return app


def show_version(wanted: bool) -> None:
    if wanted:
        from hub.db.migrate import migrations

        out.print(f"lienthong {__version__} (database schema {len(migrations())})")
        raise typer.Exit()


def root(
    env_file: Annotated[
        Path | None,
        typer.Option(
            "--env-file",
            envvar="LIENTHONG_ENV_FILE",
            help="read LIENTHONG_* settings from this file (KEY=value lines, as systemd's "
            "EnvironmentFile); the environment wins over it",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=show_version, help="print the version and exit"
        ),
    ] = False,
) -> None:
    """lienthong — the national electronic document interchange hub (Trục liên thông văn bản)."""
    if env_file is not None:
        try:
            config.read_env_file(env_file)
        except HubError as exc:
            err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None


def migrate_command(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Create the database if missing and apply the schema migrations (idempotent)."""

    async def work(settings: config.Settings) -> dict[str, object]:
        report = await run_migrations(settings.database_url)
        db = await connect(settings.database_url)
        try:
            sealed = await seal_plaintext(db, SecretBox.of(settings))
        finally:
            await db.close()
        return {
            "database": report.database,
            "created_database": report.created_database,
            "applied": list(report.applied),
            "schema_version": report.current_version,
            "sealed_vxp_secrets": sealed,
        }

    done = run(work)
    if as_json:
        sys.stdout.write(json.dumps(done) + "\n")
        return
    if done["created_database"]:
        out.print(f"created database {done['database']}")
    if done["applied"]:
        out.print(f"applied {', '.join(map(str, done['applied']))}")  # type: ignore[call-overload]
    out.print(f"database {done['database']} is at schema version {done['schema_version']}")
    if done["sealed_vxp_secrets"]:
        out.print(f"sealed {done['sealed_vxp_secrets']} national-SDK secrets stored in the clear")


def serve_command(
    workers: Annotated[
        int | None,
        typer.Option("--workers", help="worker processes (default: one per core)", min=1),
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", help="submissions in progress per process")
    ] = 64,
) -> None:
    """Run the hub (workers and the HTTP server) until stopped."""
    from hub import server

    logs.configure("INFO")
    try:
        settings = config.load()
        server.serve(settings, workers=workers or os.cpu_count() or 1, concurrency=concurrency)
    except HubError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        pass


def operator_add(
    name: str,
    role: Annotated[str, typer.Option("--role", help="viewer or admin")] = "viewer",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Create an operator account and print its token (shown once)."""
    from hub.registry import operators

    async def work(settings: config.Settings) -> operators.OperatorToken:
        db = await connect(settings.database_url)
        try:
            return await operators.add(db, name, role)
        finally:
            await db.close()

    made = run(work)
    if as_json:
        sys.stdout.write(
            json.dumps({"name": made.name, "role": made.role, "token": made.token}) + "\n"
        )
        return
    out.print(f"operator {made.name} ({made.role}); token (shown once):")
    sys.stdout.write(made.token + "\n")


def operator_list(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Operator accounts: name, role, created, revoked."""
    from hub.registry import operators

    async def work(settings: config.Settings) -> list[dict[str, object]]:
        db = await connect(settings.database_url)
        try:
            return await operators.list_all(db)
        finally:
            await db.close()

    found = run(work)
    if as_json:
        sys.stdout.write(json.dumps(found, ensure_ascii=False) + "\n")
        return
    table = Table("operator", "role", "created", "revoked")
    for o in found:
        table.add_row(
            str(o["name"]),
            str(o["role"]),
            str(o["created_at"])[:19],
            str(o["revoked_at"] or "")[:19],
        )
    out.print(table)


def operator_revoke(name: str) -> None:
    """Revoke an operator's token at once (the account stays on record)."""
    from hub.registry import operators

    async def work(settings: config.Settings) -> bool:
        db = await connect(settings.database_url)
        try:
            return await operators.revoke(db, name)
        finally:
            await db.close()

    revoked = run(work)
    out.print(f"operator {name}: " + ("token revoked" if revoked else "was already revoked"))


def main() -> None:
    """The hub's own commands (``python -m hub.cli``)."""
    build()()
