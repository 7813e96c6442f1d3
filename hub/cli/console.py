"""What every command shares: the consoles, settings, and one clear line for a hub error."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console

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
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def warn(lines: tuple[str, ...] | list[str]) -> None:
    for line in lines:
        err.print(f"[yellow]warning:[/] {line}", highlight=False, soft_wrap=True)


def read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise HubError(f"cannot read {path}: {exc.strerror}") from exc
