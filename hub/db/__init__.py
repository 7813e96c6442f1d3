"""PostgreSQL edge: named queries from ``.sql`` files, connections, migrations."""

from __future__ import annotations

from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from hub.db.connection import connect, create_pool
from hub.db.queries import Q

DB: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"
"""A connection, whether opened alone or taken from a pool."""

__all__ = ["DB", "Q", "connect", "create_pool"]
