"""``lienthong retention``: old packages' bytes archived to files or dropped (docs/OPERATIONS.md,
"Retention and disk")."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from hub import config, retention
from hub.cli.console import JsonFlag, Steps, emit_json, fail, out, run
from hub.db import connect


def register(app: typer.Typer) -> None:
    app.command("retention")(retention_command)


def retention_command(
    older_than: Annotated[
        int, typer.Option("--older-than", help="days: packages decided before then", min=1)
    ],
    archive: Annotated[
        Path | None,
        typer.Option("--archive", help="write the bytes here first (one file per package)"),
    ] = None,
    drop: Annotated[
        bool, typer.Option("--drop", help="drop the bytes without archiving them")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only say what would go")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Archive (--archive DIR) or drop (--drop) the bytes of packages older than --older-than
    days; digests, receipts, chain links and seals stay."""
    if not dry_run and (archive is None) == (not drop):
        fail("say where the bytes go: --archive DIR, or --drop to drop them (or --dry-run)")
    steps = Steps()

    async def work(settings: config.Settings) -> retention.Retained:
        db = await connect(settings.database_url)
        try:
            with steps.progress:
                steps("packages", None)
                return await retention.apply(
                    db,
                    older_than=dt.timedelta(days=older_than),
                    archive=archive.resolve() if archive else None,
                    dry_run=dry_run,
                    progress=steps.count,
                )
        finally:
            await db.close()

    done = run(work)
    if as_json:
        emit_json(done.as_json())
        return
    what = "would release" if done.dry_run else "released"
    where = f" (archived under {done.archive})" if done.archive else ""
    out.print(
        f"{what} the bytes of {done.packages} packages decided before {done.cutoff[:10]}, "
        f"{done.bytes / 1e6:.1f} MB{where}; {done.inbox_copies} acknowledged gateway inbox "
        "copies; digests, receipts, links and seals kept",
        highlight=False,
    )
