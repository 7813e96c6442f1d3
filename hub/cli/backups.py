"""``lienthong backup`` and ``lienthong restore`` (docs/OPERATIONS.md, "Backups, restores and
upgrades")."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from hub import backups, config
from hub.cli.console import err, out, run


def register(app: typer.Typer) -> None:
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)


class _Steps:
    """Each step on stderr as it starts, with a spinner and the time taken."""

    def __init__(self) -> None:
        self.progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err
        )
        self.task: TaskID | None = None

    def __call__(self, what: str) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=1)
        self.task = self.progress.add_task(what, total=1)


def backup_command(
    folder: Annotated[Path, typer.Argument(help="a new folder for the backup (made 0700)")],
    as_json: Annotated[bool, typer.Option("--json", help="print the manifest as JSON")] = False,
) -> None:
    """Back up the database, LIENTHONG_HOME and RabbitMQ's definitions, with a manifest."""
    steps = _Steps()

    async def work(settings: config.Settings) -> backups.Manifest:
        with steps.progress:
            return await backups.take(settings, folder, steps)

    manifest = run(work)
    if as_json:
        sys.stdout.write(json.dumps(manifest.as_json(), indent=2) + "\n")
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
    steps = _Steps()

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
