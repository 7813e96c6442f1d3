"""A bench phase's own database, vhost and ``LIENTHONG_HOME``, so a bench never touches real
data."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import asyncpg

from hub.broker.management import Management
from hub.config import Settings
from hub.db.connection import with_database
from hub.db.migrate import migrate


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def isolate(
    settings: Settings, output: Path, *, suffix: str = "_bench"
) -> tuple[Settings, dict[str, str]]:
    """Its own database, vhost and LIENTHONG_HOME, so a bench never touches real data."""
    base = settings.database_url.rsplit("/", 1)[0]
    name = f"{settings.database_name}{suffix}"
    admin = await asyncpg.connect(with_database(base + "/x", "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
    # a fresh LIENTHONG_HOME too: the SDK consumers' seen-stores live there, and inbox message
    # ids (lt-<package>-…) start again in a fresh database, so old stores would drop them
    shutil.rmtree(output / f"home{suffix}", ignore_errors=True)
    vhost = f"{name}-vhost"
    async with Management(settings.amqp) as api:
        await api.delete_vhost(vhost)
        await api.put_vhost(vhost)
        await api.put_permissions(
            vhost, settings.amqp.user, {"configure": ".*", "write": ".*", "read": ".*"}
        )
    amqp = settings.amqp.url.rsplit("/", 1)[0] + "/" + vhost
    env = {
        "LIENTHONG_DATABASE_URL": with_database(base + "/x", name),
        "LIENTHONG_AMQP_URL": amqp,
        "LIENTHONG_HOME": str((output / f"home{suffix}").resolve()),
        # a port of its own: claim checks (packages over 8 MiB) are fetched from it
        "LIENTHONG_HTTP": f"127.0.0.1:{free_port()}",
        # the 512 MiB package (tools/bench/giant.py) is over the default 64 MiB, and its
        # checks take longer than the default 30 s: what an operator raises for such packages
        "LIENTHONG_MAX_PACKAGE_BYTES": str(600 * 1024 * 1024),
        "LIENTHONG_CHECK_SECONDS": "300",
    }
    from hub import config

    isolated = config.load(env)
    await migrate(isolated.database_url)
    return isolated, env
