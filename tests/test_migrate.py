from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from hub.db import Q
from hub.db.connection import with_database
from hub.db.migrate import migrate, migrations
from hub.errors import ConfigError
from hub.server import check_schema
from tests.conftest import SERVER_URL


async def _drop(name: str) -> None:
    admin = await asyncpg.connect(with_database(SERVER_URL, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def test_migrate_creates_the_database_and_is_idempotent() -> None:
    name = f"lt_migrate_{uuid.uuid4().hex[:10]}"
    url = with_database(SERVER_URL, name)
    try:
        first = await migrate(url)
        assert first.created_database
        assert first.current_version == len(migrations())
        assert first.applied
        second = await migrate(url)
        assert not second.created_database
        assert second.applied == ()
        assert second.current_version == first.current_version
    finally:
        await _drop(name)


async def test_two_hubs_migrating_at_once_agree() -> None:
    name = f"lt_migrate_{uuid.uuid4().hex[:10]}"
    url = with_database(SERVER_URL, name)
    try:
        reports = await asyncio.gather(*(migrate(url) for _ in range(4)))
        applied = [m for r in reports for m in r.applied]
        assert len(applied) == len(migrations())  # each migration applied exactly once
        assert {r.current_version for r in reports} == {len(migrations())}
    finally:
        await _drop(name)


async def test_every_named_query_is_valid_sql(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            # staged_body_move reads the temporary table staged_body_create makes, in the
            # transaction that uses both (hub.record.store.write)
            await conn.execute(Q.staged_body_create)
            for name in Q.names():
                await conn.prepare(getattr(Q, name))
    finally:
        await conn.close()


async def test_bodies_are_kept_out_of_line_and_uncompressed(database_url: str) -> None:
    """0012_body_storage.sql: base64 of compressed files is not compressed again (pglz's try
    was most of PostgreSQL's time for 200 KB packages), and a claim check's slice reads only
    its own chunks."""
    conn = await asyncpg.connect(database_url)
    try:
        storage = await conn.fetch(
            "SELECT attrelid::regclass::text AS kept_in, attstorage::text FROM pg_attribute"
            " WHERE attname = 'body'"
            " AND attrelid IN ('package'::regclass, 'gateway_inbox'::regclass)"
        )
    finally:
        await conn.close()
    assert {row["kept_in"]: row["attstorage"] for row in storage} == {
        "package": "e",
        "gateway_inbox": "e",
    }


async def test_the_event_log_is_append_only(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("INSERT INTO event (chain, seq, kind) VALUES ('hub', 1, 'test')")
        for statement in ("UPDATE event SET kind = 'x'", "DELETE FROM event"):
            try:
                await conn.execute(statement)
            except asyncpg.RaiseError as exc:
                assert "append-only" in str(exc)
            else:
                raise AssertionError(f"{statement} was allowed")
    finally:
        await conn.close()


async def test_a_hub_refuses_a_schema_behind_or_ahead_of_its_own(settings) -> None:
    """The rolling-upgrade rule: a hub starts only on its own schema version, and says which
    way it differs (docs/OPERATIONS.md, "Backups, restores and upgrades")."""
    await check_schema(settings)  # migrated: its own version
    db = await asyncpg.connect(settings.database_url)
    try:
        newest = len(migrations())
        await db.execute(
            "INSERT INTO schema_migration (version, name) VALUES ($1, 'from a newer hub')",
            newest + 1,
        )
        with pytest.raises(ConfigError, match="newer than this hub's"):
            await check_schema(settings)
        await db.execute("DELETE FROM schema_migration WHERE version >= $1", newest)
        with pytest.raises(ConfigError, match="run `lienthong migrate`"):
            await check_schema(settings)
    finally:
        await db.close()
