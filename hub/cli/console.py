"""What every command shares: the consoles, settings, and one clear line for a hub error."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from hub import config, logs
from hub.errors import HubError

T = TypeVar("T")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def run(work: Callable[[config.Settings], Coroutine[Any, Any, T]]) -> T:
    """Load settings, run ``work``, and turn any hub error into one clear line and exit 1."""
    logs.configure("WARNING", quiet_drivers=True)
    try:
        settings = config.load()
        return asyncio.run(work(settings))
    except HubError as exc:
        fail(str(exc))
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as exc:
        fail(cause(exc), exc)


def fail(line: str, exc: BaseException | None = None) -> NoReturn:
    """One line ``error: …`` on stderr and exit 1 (the traceback too with LIENTHONG_DEBUG=1)."""
    err.print(f"[bold red]error:[/] {line}", highlight=False, soft_wrap=True)
    if exc is not None and os.environ.get("LIENTHONG_DEBUG"):
        err.print_exception()
    raise typer.Exit(1) from None


def cause(exc: Exception) -> str:
    """What a person can act on, for the errors the drivers raise."""
    import aiormq
    import asyncpg

    name = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, asyncpg.UndefinedTableError | asyncpg.UndefinedFunctionError):
        return f"the database has no schema (or an old one): run `lienthong migrate` ({exc})"
    if isinstance(exc, asyncpg.PostgresError):
        return f"PostgreSQL refused: {name}"
    if isinstance(exc, aiormq.exceptions.AMQPError):
        return f"RabbitMQ refused: {name} (check LIENTHONG_AMQP_URL and the user's permissions)"
    if isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError):
        return f"cannot read {exc.filename}: {exc.strerror}"
    if isinstance(exc, OSError):
        return (
            f"cannot reach a service: {name} (scripts/services.sh starts PostgreSQL and RabbitMQ)"
        )
    return f"unexpected {name} (LIENTHONG_DEBUG=1 shows where)"


def warn(lines: tuple[str, ...] | list[str]) -> None:
    for line in lines:
        err.print(f"[yellow]warning:[/] {line}", highlight=False, soft_wrap=True)


def read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise HubError(f"cannot read {path}: {exc.strerror}") from exc


JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON")]


def emit_json(data: object) -> None:
    """What a command reports, as JSON on stdout (times as ISO 8601)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


class Steps:
    """Long work shown on stderr: each step as it starts, with a spinner and the time taken;
    ``count`` for a step with a known number of items."""

    def __init__(self) -> None:
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        self.task: TaskID | None = None

    def __call__(self, what: str, total: int | None = None) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=self.progress.tasks[-1].total or 1)
        self.task = self.progress.add_task(what, total=total or 1)

    def count(self, done: int, total: int | None = None) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=done, total=total)
