"""One submission through the hub: decide, record, publish, mark — shared by the AMQP workers
and the HTTP gateway. Transient failures of PostgreSQL are retried with backoff while the
submission is held; a failure of RabbitMQ gives it back (unacknowledged) to be redelivered.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import asyncpg
import structlog

from hub import broker, db, metrics
from hub.backoff import Backoff
from hub.broker.publisher import Publisher
from hub.broker.stamp import Stamper
from hub.check import decision
from hub.check.checker import Checker
from hub.check.decision import Rejection, Submission
from hub.config import Settings
from hub.db import DB
from hub.errors import BrokerUnavailable, Unroutable
from hub.record import batch_records, deliveries, receipt, records
from hub.record.batch_records import Pending
from hub.record.group_commit import GroupCommit
from hub.registry.registry_cache import RegistryCache
from hub.route import overdue

log = structlog.get_logger(__name__)
T = TypeVar("T")

TRIAGE_BUSY = 32
"""Submissions in triage above which ordinary work waits (at most 1 s a message) for it to catch
up: the triage of a backlog is quick, and an urgent package in it is found only at its end."""


MARK_LINGER = 0.01
"""Seconds the marking of published deliveries waits for more to gather into its statement.
Marking is off the delivery path (the inbox messages and the receipt are confirmed by the
broker before it), so it can wait: on a 2-core machine at full speed its batches went from 5
to 10 deliveries' submissions, and the hub's processor time per document down by some 6 %."""


@dataclass(frozen=True, kw_only=True, slots=True)
class _Marking:
    """One submission's deliveries, confirmed by the broker, to be marked."""

    published: tuple[deliveries.Outbound, ...]
    dead: tuple[tuple[deliveries.Outbound, str], ...]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(kw_only=True)
class Pipeline:
    settings: Settings
    pool: asyncpg.Pool
    registry: RegistryCache
    signer: receipt.HubSigner
    publisher: Publisher
    triage_in_flight: int = 0
    """Submissions triage has taken off ingress and not yet moved to a lane. While more than
    :data:`TRIAGE_BUSY` are, ordinary work yields to triage, so an urgent package behind a
    backlog reaches its lane quickly (urgent work never waits)."""
    triage_quiet: asyncio.Event = field(init=False)
    """Set while triage holds at most :data:`TRIAGE_BUSY` (what ordinary work waits for)."""
    batch_most: int = 64
    """At most this many submissions (and deliveries marked) per transaction."""
    checker: Checker = field(init=False)
    """Where the CPU-bound checks run: threads, within LIENTHONG_CHECK_SECONDS."""
    stamper: Stamper = field(init=False)
    """Stamps the headers the hub sets on submissions inside it (:mod:`hub.broker.stamp`)."""
    recorder: GroupCommit[Pending, records.Recorded] = field(init=False)
    marker: GroupCommit[_Marking, None] = field(init=False)

    def __post_init__(self) -> None:
        self.checker = Checker(budget=self.settings.check_seconds)
        self.stamper = Stamper.for_hub(self.signer.key)
        self.triage_quiet = asyncio.Event()
        self.triage_quiet.set()
        self.recorder = GroupCommit(
            self._record_batch,
            keys=lambda p: p.keys,
            most=self.batch_most,
            split_on=db.not_transient,
            name="record",
        )
        self.marker = GroupCommit(
            self._mark_batch,
            most=self.batch_most,
            split_on=db.not_transient,
            name="mark",
            linger=MARK_LINGER,
        )

    def triage_started(self) -> None:
        self.triage_in_flight += 1
        if self.triage_in_flight > TRIAGE_BUSY:
            self.triage_quiet.clear()

    def triage_done(self) -> None:
        self.triage_in_flight -= 1
        if self.triage_in_flight <= TRIAGE_BUSY:
            self.triage_quiet.set()

    async def run(self) -> None:
        """The group commits' loops (the hub runs this beside its workers)."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self.recorder.run())
            group.create_task(self.marker.run())

    async def _record_batch(self, batch: Sequence[Pending]) -> list[records.Recorded]:
        async with self.pool.acquire() as conn:
            recorded = await batch_records.record_many(conn, batch, signer=self.signer)
        metrics.labelled(metrics.BATCH_SIZE, "record").observe(len(batch))
        return recorded

    async def _mark_batch(self, batch: Sequence[_Marking]) -> list[None]:
        published = [out for marking in batch for out in marking.published]
        dead = [gone for marking in batch for gone in marking.dead]
        due = overdue.deadline(utcnow(), self.settings.working_time)
        async with self.pool.acquire() as conn:
            await deliveries.mark_delivered(conn, published, dead, deadline=due)
        metrics.labelled(metrics.BATCH_SIZE, "mark").observe(len(batch))
        return [None] * len(batch)

    async def retrying(
        self,
        work: Callable[[], Awaitable[T]],
        *,
        keep_trying: Callable[[], bool] = lambda: True,
    ) -> T:
        """Run ``work`` until PostgreSQL lets it through (backoff), or ``keep_trying`` says no."""
        backoff = Backoff(0.1)
        while True:
            try:
                return await work()
            except db.TRANSIENT as exc:
                if not keep_trying():
                    raise
                metrics.RETRIES.labels("postgresql").inc()
                log.warning(
                    "database_retry", error=f"{type(exc).__name__}: {exc}", delay=backoff.delay
                )
                await backoff.sleep()

    async def with_database(
        self,
        work: Callable[[DB], Awaitable[T]],
        *,
        keep_trying: Callable[[], bool] = lambda: True,
    ) -> T:
        async def once() -> T:
            async with self.pool.acquire() as conn:
                return await work(conn)

        return await self.retrying(once, keep_trying=keep_trying)

    async def decide(
        self, submission: Submission, now: dt.datetime
    ) -> decision.Checked | Rejection:
        """The checks that need no database, in a thread of :attr:`checker`."""
        return await self.checker.decide(
            submission,
            self.registry.snapshot,
            now=now,
            max_bytes=self.settings.max_package_bytes,
        )

    async def process(
        self,
        submission: Submission,
        *,
        lane: str = "ordinary",
        keep_trying: Callable[[], bool] = lambda: True,
    ) -> records.Recorded:
        started = time.perf_counter()
        now = utcnow()
        result = await self.decide(submission, now)
        checked_at = time.perf_counter()
        metrics.labelled(metrics.STAGE_SECONDS, "check").observe(checked_at - started)
        if isinstance(result, decision.Checked) and result.urgent and result.document is not None:
            self.registry.urgent_documents.add(result.document.sender, result.document.document_id)
        if batch_records.batchable(result):
            pending = Pending(submission=submission, result=result, now=now, lane=lane)
            urgent = lane == "urgent"
            recorded = await self.retrying(
                lambda: self.recorder.submit(pending, urgent=urgent), keep_trying=keep_trying
            )
        else:
            recorded = await self.with_database(
                lambda conn: records.record(
                    conn, submission, result, signer=self.signer, now=now, lane=lane
                ),
                keep_trying=keep_trying,
            )
        recorded_at = time.perf_counter()
        metrics.labelled(metrics.STAGE_SECONDS, "record").observe(recorded_at - checked_at)
        await self.deliver(recorded.outbound, keep_trying=keep_trying)
        delivered_at = time.perf_counter()
        metrics.labelled(metrics.STAGE_SECONDS, "deliver").observe(delivered_at - recorded_at)
        if not recorded.replay:
            code = recorded.code.value if recorded.code else ""
            metrics.labelled(metrics.PACKAGES, submission.kind.value, recorded.outcome, code).inc()
            if isinstance(result, decision.Checked) and recorded.code is None:
                if result.assurance == decision.TRANSPORT:
                    metrics.ACCEPTED_UNSIGNED.labels(submission.submitter).inc()
            metrics.END_TO_END_SECONDS.observe(time.perf_counter() - started)
        log.info(
            "package_" + recorded.outcome,
            message_id=submission.message_id,
            submitter=submission.submitter,
            kind=submission.kind.value,
            document_id=result.document_id,
            sender=result.sender,
            code=recorded.code.value if recorded.code else None,
            recipients=[o.recipient for o in recorded.outbound if o.kind != "receipt"],
            replay=recorded.replay,
            duration_ms=round((delivered_at - started) * 1000, 2),
            stages_ms={
                "check": round((checked_at - started) * 1000, 2),
                "record": round((recorded_at - checked_at) * 1000, 2),
                "deliver": round((delivered_at - recorded_at) * 1000, 2),
            },
        )
        return recorded

    async def publish_all(
        self, outbound: tuple[deliveries.Outbound, ...] | list[deliveries.Outbound]
    ) -> tuple[list[deliveries.Outbound], list[tuple[deliveries.Outbound, str]]]:
        """Publish with every confirm in flight together; raise BrokerUnavailable on failure."""
        results = await asyncio.gather(
            *(self.publisher.publish(out) for out in outbound), return_exceptions=True
        )
        published: list[deliveries.Outbound] = []
        dead: list[tuple[deliveries.Outbound, str]] = []
        for out, outcome in zip(outbound, results, strict=True):
            if outcome is None:
                published.append(out)
            elif isinstance(outcome, Unroutable):
                dead.append((out, str(outcome)))
            elif isinstance(outcome, broker.TRANSIENT):
                raise BrokerUnavailable(f"publishing failed: {outcome!r}") from outcome
            elif isinstance(outcome, BaseException):
                raise outcome
        return published, dead

    async def deliver(
        self,
        outbound: tuple[deliveries.Outbound, ...],
        *,
        keep_trying: Callable[[], bool] = lambda: True,
    ) -> None:
        """Publish every pending delivery, then mark them."""
        if not outbound:
            return
        published, dead = await self.publish_all(outbound)
        marking = _Marking(published=tuple(published), dead=tuple(dead))
        urgent = any(out.urgent for out in outbound)
        await self.retrying(
            lambda: self.marker.submit(marking, urgent=urgent), keep_trying=keep_trying
        )
        for out in published:
            metrics.labelled(metrics.DELIVERIES, out.kind).inc()
        for out, reason in dead:
            log.error("delivery_dead", recipient=out.recipient, kind=out.kind, reason=reason)
