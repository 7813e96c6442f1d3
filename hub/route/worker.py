"""The hub's consumers of its work lanes: the workers that run the pipeline (urgent lane
first), the sweeper for deliveries a crash left pending, and the overdue watch."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools

import structlog
from aio_pika.abc import AbstractRobustConnection

from hub import metrics
from hub.audit import events
from hub.broker import delivery, names
from hub.broker.delivery import Delivery
from hub.check.schema import Kind
from hub.db import Q
from hub.record import deliveries
from hub.route import overdue
from hub.route.handling import Handler, KeyedLocks
from hub.route.lanes import channel_closed, hub_headers
from hub.route.pipeline import Pipeline

log = structlog.get_logger(__name__)


class Workers:
    """Run the pipeline on the lanes, urgent first, in every hub process. Statuses come here
    only when an operator requeues one (triage handles them itself, in order); they too wait
    for the previous status of their submitter."""

    def __init__(
        self,
        connection: AbstractRobustConnection,
        pipeline: Pipeline,
        *,
        concurrency: int = 32,
    ) -> None:
        self._connection = connection
        self._pipeline = pipeline
        self._concurrency = concurrency
        self._queue: asyncio.PriorityQueue[tuple[int, int, Delivery]] = asyncio.PriorityQueue()
        self._order = itertools.count()
        self._locks = KeyedLocks()
        self._handler = Handler(connection, pipeline)

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self._consume(names.URGENT_WORK_QUEUE, 0))
            group.create_task(self._consume(names.WORK_QUEUE, 1))
            for _ in range(self._concurrency):
                group.create_task(self._work())

    async def _consume(self, queue_name: str, rank: int) -> None:
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=self._concurrency * 2)

        async def on_message(message: Delivery) -> None:
            self._queue.put_nowait((rank, next(self._order), message))

        # if the connection is lost, the hub restarts its broker side (hub.server.keep_serving)
        await delivery.consume(channel, queue_name, on_message)
        await asyncio.Future()

    async def _work(self) -> None:
        while True:
            rank, _, message = await self._queue.get()
            if channel_closed(message):
                continue  # taken before a reconnect: the broker delivers it again
            if rank > 0:
                await self._yield_to_triage()
            headers = message.headers or {}
            submitter = str(headers.get(names.SUBMITTER_HEADER, ""))
            kind = str(headers.get(names.KIND_HEADER, ""))
            lane = "urgent" if rank == 0 else "ordinary"
            handle = self._handler.handle(
                message, submitter=submitter, kind=kind, lane=lane, ours=hub_headers(message)
            )
            try:
                if kind == Kind.STATUS.value:
                    async with self._locks.hold(submitter):
                        await handle
                else:
                    await handle
            except Exception as exc:
                log.error("worker_error", message_id=message.message_id, error=repr(exc))

    async def _yield_to_triage(self, *, longest: float = 1.0) -> None:
        """Let triage drain a backlog in ingress first (an urgent package may be in it). At most
        ``longest`` seconds: with 0.2 an urgent package behind 2,000 ordinary ones arrived after
        316 to 523 of them on a 2-core machine, with 1.0 after 78 to 81, at the same throughput."""
        if not self._pipeline.triage_quiet.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._pipeline.triage_quiet.wait(), longest)


class Sweeper:
    """Publishes deliveries left pending (a hub died between recording and publishing)."""

    def __init__(self, pipeline: Pipeline, *, older_than: float = 15.0, every: float = 5.0) -> None:
        self._pipeline = pipeline
        self._older_than = older_than
        self._every = every

    async def sweep_once(self) -> int:
        async with self._pipeline.pool.acquire() as conn, conn.transaction():
            stale = await deliveries.stale_deliveries(conn, older_than=self._older_than, limit=500)
            if not stale:
                return 0
            published, dead = await self._pipeline.publish_all(stale)
            due = overdue.deadline(dt.datetime.now(dt.UTC), self._pipeline.settings.working_time)
            await deliveries.mark_delivered(conn, published, dead, deadline=due)
        log.info("swept_deliveries", published=len(published), dead=len(dead))
        return len(published)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            try:
                await self.sweep_once()
            except Exception as exc:
                log.warning("sweep_failed", error=repr(exc))


class OverdueWatch:
    """Flags deliveries past their same-day deadline without any status: logged and recorded
    once (whichever hub sees it first), counted in ``lienthong_overdue_deliveries``."""

    def __init__(self, pipeline: Pipeline, *, every: float = 5.0) -> None:
        self._pipeline = pipeline
        self._every = every

    async def check_once(self) -> int:
        async with self._pipeline.pool.acquire() as conn, conn.transaction():
            flagged = await conn.fetch(Q.overdue_flag)
            for row in flagged:
                log.warning(
                    "delivery_overdue",
                    document_id=row["document_id"],
                    sender=row["sender"],
                    recipient=row["recipient"],
                    delivered_at=row["published_at"].isoformat(),
                    deadline=row["deadline_at"].isoformat(),
                )
            await events.append_many(
                conn,
                (
                    events.Event(
                        kind="overdue",
                        actor="hub",
                        organ_id=row["recipient"],
                        document_id=row["document_id"],
                        payload={
                            "sender": row["sender"],
                            "deadline": row["deadline_at"].isoformat(),
                        },
                    )
                    for row in flagged
                ),
            )
            metrics.OVERDUE.set(await conn.fetchval(Q.overdue_count))
        return len(flagged)

    async def run(self) -> None:
        while True:
            try:
                await self.check_once()
            except Exception as exc:
                log.warning("overdue_check_failed", error=repr(exc))
            await asyncio.sleep(self._every)
