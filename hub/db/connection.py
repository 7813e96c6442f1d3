"""Connections to PostgreSQL; driver errors become :class:`ServiceUnavailable` here, once."""

from __future__ import annotations

import asyncio
import socket
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from hub.errors import ServiceUnavailable

_DRIVER_ERRORS = (OSError, asyncio.TimeoutError, asyncpg.PostgresError, socket.gaierror)


def _where(url: str) -> str:
    """Host(s), port(s) and database, without user or password (a multi-host URL too)."""
    parts = urlsplit(url)
    hosts = parts.netloc.rsplit("@", 1)[-1] or "the local socket"
    if ":" not in hosts and "," not in hosts and parts.netloc:
        hosts += ":5432"
    return f"{hosts}{parts.path}"


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def _unavailable(url: str, exc: BaseException) -> ServiceUnavailable:
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return ServiceUnavailable(
            f"PostgreSQL database at {_where(url)} does not exist: run `lienthong migrate`"
        )
    return ServiceUnavailable(
        f"cannot reach PostgreSQL at {_where(url)} ({type(exc).__name__}: {exc}); "
        "is it running? (scripts/services.sh starts it) Check LIENTHONG_DATABASE_URL."
    )


async def connect(url: str, *, timeout: float = 10.0) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(url, timeout=timeout)
    except _DRIVER_ERRORS as exc:
        raise _unavailable(url, exc) from exc


async def _keep_session(_: asyncpg.Connection[Any]) -> None:
    """Released connections skip asyncpg's reset query (a round trip each time): the hub's
    pooled work leaves no session state behind — its advisory locks are transaction-scoped,
    it neither LISTENs (the registry has its own connection) nor SETs; an open transaction is
    still rolled back by asyncpg itself."""


async def create_pool(url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    try:
        pool = await asyncpg.create_pool(
            url, min_size=min_size, max_size=max_size, timeout=10, reset=_keep_session
        )
    except _DRIVER_ERRORS as exc:
        raise _unavailable(url, exc) from exc
    assert pool is not None
    return pool
