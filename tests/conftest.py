"""Fixtures over the real services: a fresh database per test (cloned from a migrated
template), a RabbitMQ vhost per test, agencies with random OrganIds, a LIENTHONG_HOME per test.
"""

from __future__ import annotations

import os
import random
import string
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest

from hub import config
from hub.broker.management import Management
from hub.config import Settings
from hub.db.connection import with_database
from hub.db.migrate import migrate

SERVER_URL = os.environ.get(
    "LIENTHONG_TEST_DATABASE_SERVER", "postgresql://postgres@127.0.0.1:5432"
)
TEMPLATE = "lienthong_test_template"
SAMPLES = Path(
    os.environ.get("LIENTHONG_SAMPLES")
    or Path(__file__).resolve().parents[2] / "shared" / "samples" / "vpcp"
)


def random_organ_id() -> str:
    digits = random.choices(string.digits, k=9)
    letter = random.choice(string.ascii_uppercase)
    return "{}{}{}.{}{}.{}{}.".format(*digits[:7]) + letter + "".join(digits[7:])


@pytest.fixture(scope="session")
async def template_database() -> str:
    """A database migrated once per run; each test gets a copy of it."""
    admin = await asyncpg.connect(with_database(SERVER_URL, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
    finally:
        await admin.close()
    await migrate(with_database(SERVER_URL, TEMPLATE))
    return TEMPLATE


@pytest.fixture
async def database_url(template_database: str) -> AsyncIterator[str]:
    name = f"lt_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(with_database(SERVER_URL, "postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    finally:
        await admin.close()
    yield with_database(SERVER_URL, name)
    admin = await asyncpg.connect(with_database(SERVER_URL, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def vhost() -> AsyncIterator[str]:
    name = f"lt-test-{uuid.uuid4().hex[:12]}"
    amqp = config.load({}).amqp
    async with Management(amqp) as api:
        await api.put_vhost(name)
        await api.put_permissions(name, amqp.user, {"configure": ".*", "write": ".*", "read": ".*"})
    yield name
    async with Management(amqp) as api:
        await api.delete_vhost(name)


@pytest.fixture
def home_dir(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def env(database_url: str, vhost: str, home_dir: Path) -> dict[str, str]:
    """The environment of a hub isolated for this test."""
    return {
        "LIENTHONG_DATABASE_URL": database_url,
        "LIENTHONG_AMQP_URL": f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
        "LIENTHONG_HOME": str(home_dir),
    }


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return config.load(env)


@pytest.fixture
async def broker_users(settings: Settings) -> AsyncIterator[list[str]]:
    """RabbitMQ users are global: a test lists the ones it creates here and they are removed."""
    created: list[str] = []
    yield created
    async with Management(settings.amqp) as api:
        for user in created:
            await api.delete_user(user)


@pytest.fixture
def organ_ids(broker_users: list[str]) -> Iterator[list[str]]:
    """Fresh random OrganIds, their broker users cleaned up after the test."""

    class Ids(list[str]):
        def new(self) -> str:
            organ = random_organ_id()
            broker_users.append(organ)
            self.append(organ)
            return organ

    yield Ids()


@pytest.fixture
def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"national samples not found at {SAMPLES}")
    return SAMPLES


def settings_with(settings: Settings, **changes: object) -> Settings:
    return replace(settings, **changes)  # type: ignore[arg-type]


@pytest.fixture
async def world(settings: Settings, broker_users: list[str]) -> AsyncIterator[object]:
    """A registry with the development CA trusted, ready for agencies (tests.harness.World)."""
    from hub import home
    from hub.registry import registry
    from hub.session import open_session
    from tests.harness import World

    made = home.init_dev_ca(settings)
    async with open_session(settings) as session:
        await registry.trust_ca(session.db, made.ca.cert, source="development")
        created = World(session=session, settings=settings, broker_users=broker_users)
        try:
            yield created
        finally:
            await created.close()
