"""The hub's consumers: triage (ingress → urgent or ordinary lane), the workers that run the
pipeline (urgent lane first), and the sweeper for deliveries a crash left pending."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import time
import traceback
from collections.abc import AsyncIterator

import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection

from hub import broker, metrics
from hub.audit import events
from hub.backoff import Backoff
from hub.broker import names
from hub.check.decision import Submission, fallback_message_id
from hub.check.schema import Kind
from hub.db import Q
from hub.errors import BrokerUnavailable
from hub.record import deliveries
from hub.route import overdue
from hub.route.lanes import admit, channel_closed, dead_letter, hub_headers
from hub.route.pipeline import Pipeline

log = structlog.get_logger(__name__)


class Triage:
    """Moves each submission from lienthong.ingress into the urgent or the ordinary lane."""

    def __init__(
        self, connection: AbstractRobustConnection, pipeline: Pipeline, *, in_flight: int = 256
    ) -> None:
        self._connection = connection
        self._pipeline = pipeline
        self._in_flight = in_flight

    async def run(self) -> None:
        channel = await self._connection.channel(publisher_confirms=True)
        await channel.set_qos(prefetch_count=self._in_flight)
        ingress = await channel.get_queue(names.INGRESS_QUEUE, ensure=False)
        tasks: set[asyncio.Task[None]] = set()

        async def on_message(message: AbstractIncomingMessage) -> None:
            # prefetch bounds how many are in flight; each moves on its own
            task = asyncio.create_task(self._move(channel, message))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        # if the connection is lost, the hub restarts its broker side (hub.server.keep_serving)
        await ingress.consume(on_message)
        await asyncio.Future()

    async def _move(self, channel: AbstractChannel, message: AbstractIncomingMessage) -> None:
        self._pipeline.triage_started()
        try:
            await self._move_one(channel, message)
        finally:
            self._pipeline.triage_done()

    async def _move_one(self, channel: AbstractChannel, message: AbstractIncomingMessage) -> None:
        try:
            if not message.user_id:
                log.warning(
                    "submission_without_user_id",
                    message_id=message.message_id,
                    routing_key=message.routing_key,
                    size=len(message.body),
                )
                await dead_letter(
                    channel,
                    message,
                    "no user_id: the submission does not say which agency published it, so no "
                    "receipt can be sent; publish with user_id set to your RabbitMQ user",
                    {},
                )
                await message.ack()
                return
            kind = message.routing_key or ""
            if kind not in (Kind.EDOC.value, Kind.STATUS.value):
                await dead_letter(
                    channel,
                    message,
                    f"unknown routing key {kind[:64]!r}: use edoc or status",
                    {},
                )
                await message.ack()
                return
            # Only what the broker checked (user_id, routing key) names the submitter and kind;
            # the publisher's own headers are not carried into the hub.
            await admit(
                channel,
                message,
                self._pipeline.stamper,
                submitter=message.user_id,
                kind=kind,
                urgent_documents=self._pipeline.registry.urgent_documents,
            )
            await message.ack()
        except broker.TRANSIENT as exc:
            log.warning("triage_broker_error", message_id=message.message_id, error=repr(exc))
            if not channel_closed(message):
                # publishing failed while this channel lives: hand it back to be delivered again
                with contextlib.suppress(*broker.TRANSIENT):
                    await asyncio.sleep(0.5)
                    await message.nack(requeue=True)


class KeyedLocks:
    """One FIFO lock per key, forgotten when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


class Workers:
    """Run the pipeline on the lanes, urgent first; statuses of one submitter in order."""

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
        self._queue: asyncio.PriorityQueue[tuple[int, int, AbstractIncomingMessage]] = (
            asyncio.PriorityQueue()
        )
        self._order = itertools.count()
        self._locks = KeyedLocks()
        self._seen: dict[str, float] = {}

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self._consume(names.URGENT_WORK_QUEUE, 0))
            group.create_task(self._consume(names.WORK_QUEUE, 1))
            for _ in range(self._concurrency):
                group.create_task(self._work())

    async def _consume(self, queue_name: str, rank: int) -> None:
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=self._concurrency * 2)
        queue = await channel.get_queue(queue_name, ensure=False)

        async def on_message(message: AbstractIncomingMessage) -> None:
            self._queue.put_nowait((rank, next(self._order), message))

        # if the connection is lost, the hub restarts its broker side (hub.server.keep_serving)
        await queue.consume(on_message)
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
            try:
                if kind == Kind.STATUS.value:
                    async with self._locks.hold(submitter):
                        await self._handle(message, submitter, kind, rank)
                else:
                    await self._handle(message, submitter, kind, rank)
            except Exception as exc:
                log.error("worker_error", message_id=message.message_id, error=repr(exc))

    async def _yield_to_triage(self, *, longest: float = 0.2) -> None:
        """Let triage drain a backlog in ingress first (an urgent package may be in it)."""
        if not self._pipeline.triage_quiet.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._pipeline.triage_quiet.wait(), longest)

    async def _handle(
        self, message: AbstractIncomingMessage, submitter: str, kind: str, rank: int
    ) -> None:
        metrics.IN_FLIGHT.inc()
        try:
            # message_id is required; without one, the digest keeps resubmission idempotent
            message_id = message.message_id or fallback_message_id(message.body)
            submission = Submission(
                submitter=submitter,
                message_id=message_id,
                kind=Kind(kind),
                body=message.body,
                channel="amqp",
                received_at=message.timestamp.replace(tzinfo=dt.UTC) if message.timestamp else None,
            )
            backoff = Backoff(0.2)
            while True:
                try:
                    await self._pipeline.process(
                        submission,
                        lane="urgent" if rank == 0 else "ordinary",
                        keep_trying=lambda: not channel_closed(message),
                    )
                    await message.ack()
                    break
                except (BrokerUnavailable, *broker.TRANSIENT) as exc:
                    log.warning(
                        "broker_unavailable", message_id=message.message_id, error=repr(exc)
                    )
                    if channel_closed(message):
                        return  # the broker delivers it again, on a new channel
                    # the publishing channel may still be reconnecting while this one is back:
                    # hold the message and try again (the replay publishes what is pending)
                    metrics.RETRIES.labels("rabbitmq").inc()
                    await backoff.sleep()
            await self._note_seen(submitter)
        except Exception as exc:
            log.error(
                "submission_failed",
                message_id=message.message_id,
                submitter=submitter,
                error=repr(exc),
                traceback=traceback.format_exc(limit=8),
            )
            try:
                channel = await self._connection.channel(publisher_confirms=True)
                try:
                    await dead_letter(
                        channel,
                        message,
                        f"hub error: {type(exc).__name__}: {exc}",
                        hub_headers(message),
                    )
                    await message.ack()
                finally:
                    await channel.close()
            except Exception as again:
                log.warning("dead_letter_failed", message_id=message.message_id, error=repr(again))
        finally:
            metrics.IN_FLIGHT.dec()

    async def _note_seen(self, organ_id: str) -> None:
        now = time.monotonic()
        if now - self._seen.get(organ_id, 0.0) < 60:
            return
        self._seen[organ_id] = now
        with contextlib.suppress(Exception):
            await self._pipeline.pool.execute(Q.agency_seen, organ_id)


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
