"""PostgreSQL edge: named queries from ``.sql`` files, connections, migrations."""

from __future__ import annotations

from hub.db.connection import connect, create_pool
from hub.db.queries import Q

__all__ = ["Q", "connect", "create_pool"]
