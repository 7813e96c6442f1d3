"""``lienthong backup`` and ``lienthong restore`` (docs/OPERATIONS.md, "Backups, restores and
upgrades")."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub import backups, config
from hub.cli.console import JsonFlag, Steps, emit_json, out, run


def register(app: typer.Typer) -> None:
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)


def backup_command(
    folder: Annotated[Path, typer.Argument(help="a new folder for the backup (made 0700)")],
    as_json: JsonFlag = False,
) -> None:
    """Back up the database, LIENTHONG_HOME and RabbitMQ's definitions, with a manifest."""
    steps = Steps()

    async def work(settings: config.Settings) -> backups.Manifest:
        with steps.progress:
            return await backups.take(settings, folder, steps)

    manifest = run(work)
    if as_json:
        emit_json(manifest.as_json())
        return
    out.print(
        f"backup in {folder}: schema {manifest.schema}, {manifest.packages} packages, "
        f"{manifest.links} links in {manifest.chains} chains, taken {manifest.taken_at[:19]}Z",
        highlight=False,
    )


def restore_command(
    folder: Annotated[Path, typer.Argument(help="a folder made by `lienthong backup`")],
    broker: Annotated[
        bool,
        typer.Option("--broker", help="also load the RabbitMQ definitions (a new broker)"),
    ] = False,
) -> None:
    """Restore a backup into an empty database and LIENTHONG_HOME (digests checked first),
    and record the restore on the hub's chain."""
    steps = Steps()

    async def work(settings: config.Settings) -> backups.Manifest:
        with steps.progress:
            return await backups.restore(settings, folder, broker=broker, step=steps)

    manifest = run(work)
    out.print(
        f"restored the backup taken {manifest.taken_at[:19]}Z (schema {manifest.schema}, "
        f"{manifest.packages} packages); run `lienthong migrate` if this hub is newer, then "
        "`lienthong audit verify`, then start the hub",
        highlight=False,
    )
