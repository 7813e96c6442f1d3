"""``lienthong migrate``: create the database if missing and apply numbered migrations.

Idempotent, and safe when several hub processes start at once: the migrations run under a
PostgreSQL advisory lock, each in its own transaction, and a version is recorded with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from urllib.parse import urlsplit

import asyncpg
import structlog

from hub.db.connection import connect, with_database
from hub.db.queries import Q
from hub.errors import ServiceUnavailable

log = structlog.get_logger(__name__)

MIGRATION_LOCK = 0x6C69656E  # "lien": the advisory lock key for migrations
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, kw_only=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


@dataclass(frozen=True, kw_only=True, slots=True)
class MigrationReport:
    database: str
    created_database: bool
    applied: tuple[str, ...]
    current_version: int


def migrations() -> list[Migration]:
    folder = resources.files("hub.db").joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        match = _FILE.match(entry.name)
        if match:
            found.append(
                Migration(
                    version=int(match.group(1)),
                    name=match.group(2),
                    sql=entry.read_text(encoding="utf-8"),
                )
            )
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations are not numbered 1, 2, 3 … without gaps: {versions}")
    return found


async def ensure_database(url: str) -> bool:
    """Create the database named in ``url`` when it does not exist. True when created."""
    database = urlsplit(url).path.lstrip("/")
    admin = await connect(with_database(url, "postgres"))
    try:
        exists = await admin.fetchval(Q.database_exists, database)
        if exists:
            return False
        try:
            await admin.execute(f'CREATE DATABASE "{database.replace(chr(34), "")}"')
        except (asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
            return False  # another process created it in the meantime
        except asyncpg.InsufficientPrivilegeError as exc:
            raise ServiceUnavailable(
                f"database {database!r} does not exist and this role may not create it; "
                f"create it yourself (createdb {database}) or grant CREATEDB"
            ) from exc
        return True
    finally:
        await admin.close()


async def migrate(url: str) -> MigrationReport:
    created = await ensure_database(url)
    conn = await connect(url)
    applied: list[str] = []
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        try:
            await conn.execute(Q.migration_table_create)
            done = {row["version"] for row in await conn.fetch(Q.migration_versions)}
            for migration in migrations():
                if migration.version in done:
                    continue
                async with conn.transaction():
                    await conn.execute(migration.sql)
                    await conn.execute(Q.migration_record, migration.version, migration.name)
                applied.append(f"{migration.version:04d}_{migration.name}")
                log.info("migration_applied", version=migration.version, name=migration.name)
            current = await conn.fetchval(Q.migration_current)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
    finally:
        await conn.close()
    return MigrationReport(
        database=urlsplit(url).path.lstrip("/"),
        created_database=created,
        applied=tuple(applied),
        current_version=int(current or 0),
    )
