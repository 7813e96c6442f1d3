"""What an operator's command needs, opened together and closed together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from aio_pika.abc import AbstractChannel

from hub.broker import topology
from hub.broker.management import Management
from hub.config import Settings
from hub.db import connect


@dataclass(frozen=True, kw_only=True, slots=True)
class Session:
    settings: Settings
    db: asyncpg.Connection
    management: Management
    channel: AbstractChannel


@asynccontextmanager
async def open_session(settings: Settings) -> AsyncIterator[Session]:
    db = await connect(settings.database_url)
    try:
        async with Management(settings.amqp) as management:
            await management.overview()  # fail early, with a clear message
            connection = await topology.connect_any(
                settings.amqp.urls or (settings.amqp.url,), name="lienthong-cli"
            )
            try:
                await topology.declare_core(connection)
                channel = await connection.channel()
                yield Session(settings=settings, db=db, management=management, channel=channel)
            finally:
                await connection.close()
    finally:
        await db.close()
