"""PostgreSQL edge: named queries from ``.sql`` files, connections, migrations."""

from __future__ import annotations

from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from hub.db.connection import connect, create_pool
from hub.db.queries import Q

DB: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"
"""A connection, whether opened alone or taken from a pool."""

# What PostgreSQL or the network may raise and a later try may not: the one place the
# driver's exceptions are classified (the pipeline retries these; anything else is a fault).
TRANSIENT = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,  # a pooled connection left mid-operation by a server restart
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    asyncpg.UniqueViolationError,  # a race on the same message_id: the retry replays it
)


def not_transient(exc: Exception) -> bool:
    """A batch that failed for this reason is tried one item at a time: the fault is likely
    one item's (a row PostgreSQL refuses), and the others must not fail with it. A unique
    violation counts too: between two items of one batch it would recur with every retry of
    the same batch (the group commit's keys are meant to rule that out), while alone each item
    either goes through or meets another hub's row and is replayed on its own retry."""
    return not isinstance(exc, TRANSIENT) or isinstance(exc, asyncpg.UniqueViolationError)


__all__ = ["DB", "TRANSIENT", "Q", "connect", "create_pool", "not_transient"]
