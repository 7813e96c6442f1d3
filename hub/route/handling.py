"""Running one submission taken off a queue: through the pipeline, then acknowledged — or,
when the hub cannot handle it, dead-lettered with the reason. The same for a message of a work
lane (:class:`hub.route.worker.Workers`) and for a status taken straight off ingress
(:class:`hub.route.triage.Triage`), whose order must hold."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
import traceback
from collections.abc import AsyncIterator, Mapping
from typing import Any

import structlog
from aio_pika.abc import AbstractRobustConnection

from hub import broker, metrics
from hub.backoff import Backoff
from hub.broker.acks import Acknowledger
from hub.broker.delivery import Consumed
from hub.check.decision import Submission, fallback_message_id
from hub.check.schema import Kind
from hub.db import Q
from hub.errors import BrokerUnavailable
from hub.route.lanes import channel_closed, dead_letter
from hub.route.pipeline import Pipeline

log = structlog.get_logger(__name__)


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


class Handler:
    """Runs submissions through the pipeline and acknowledges them (see the module)."""

    def __init__(self, connection: AbstractRobustConnection, pipeline: Pipeline) -> None:
        self._connection = connection
        self._pipeline = pipeline
        self._seen: dict[str, float] = {}
        self.acks = Acknowledger()
        """Acknowledges what this handler's consumers took (several per ``basic.ack``)."""

    async def handle(
        self,
        message: Consumed,
        *,
        submitter: str,
        kind: str,
        lane: str,
        ours: Mapping[str, Any],
    ) -> None:
        """``ours``: the hub's own stamped headers for it, carried by a dead letter."""
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
                        lane=lane,
                        keep_trying=lambda: not channel_closed(message),
                    )
                    self.acks.ack(message)
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
                        channel, message, f"hub error: {type(exc).__name__}: {exc}", ours
                    )
                    self.acks.ack(message)
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
