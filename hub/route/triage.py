"""Triage: what the hub takes off its ingress queues.

``lienthong.ingress.urgent`` (routing keys ``edoc.urgent``, ``status.urgent``) is read before
``lienthong.ingress`` (``edoc``, ``status``). Both are single-active-consumer queues: one hub
process at a time reads them, in the order the broker holds them — another takes over when it
goes — so that what one submitter sent is taken in the order it was sent, whichever hub
processes and machines run. Statuses are handled right here, one submitter's one after the
other (its 01 before its 03 before its 05), concurrently across submitters: a status moved into
a lane could be taken by two processes at once and applied out of order.

A document is handled right here too while ingress is quiet — no other submission taken off
it and not yet placed, and fewer than :data:`HERE_MOST` documents being handled here — which
saves the broker one persistent message (the lane's) per document. Under a backlog it is
moved into the urgent or the ordinary work lane, where every hub process takes them, urgent
first: so an urgent package behind thousands of ordinary ones still overtakes them, and the
backlog is shared by every process.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from typing import Any

import structlog
from aio_pika.abc import AbstractChannel, AbstractRobustConnection

from hub import broker, metrics
from hub.broker import delivery, names
from hub.broker.delivery import Delivery
from hub.check.schema import Kind
from hub.route.handling import Handler, KeyedLocks
from hub.route.lanes import admit, channel_closed, dead_letter
from hub.route.pipeline import Pipeline
from hub.route.urgency import lane_of

log = structlog.get_logger(__name__)

HERE_MOST = 16
"""Documents handled by triage itself at once (beyond them, they go to the work lanes)."""


def kind_of(routing_key: str) -> str | None:
    """``edoc`` or ``status`` from a submission's routing key (``…urgent`` too); else None."""
    kind = routing_key.removesuffix(".urgent")
    return kind if kind in (Kind.EDOC.value, Kind.STATUS.value) else None


class Triage:
    """Takes submissions off the ingress queues (see the module)."""

    def __init__(
        self, connection: AbstractRobustConnection, pipeline: Pipeline, *, in_flight: int = 256
    ) -> None:
        self._connection = connection
        self._pipeline = pipeline
        self._in_flight = in_flight
        self._locks = KeyedLocks()
        self._handler = Handler(connection, pipeline)
        self._here = 0
        """Documents being handled here (not moved to a lane)."""

    async def run(self) -> None:
        channel = await self._connection.channel(publisher_confirms=True)
        await channel.set_qos(prefetch_count=self._in_flight)
        # prefetch bounds how many are in flight; each moves on its own (aiormq runs each
        # delivery in a task of its own, started in arrival order), except that one submitter's
        # statuses wait for each other (the lock is asked for before the first wait, so in
        # arrival order). If the connection is lost, the hub restarts its broker side
        # (hub.server.keep_serving).
        for queue_name in (names.URGENT_INGRESS_QUEUE, names.INGRESS_QUEUE):
            await delivery.consume(channel, queue_name, functools.partial(self._move, channel))
        await asyncio.Future()

    async def _move(self, channel: AbstractChannel, message: Delivery) -> None:
        self._pipeline.triage_started()
        here = False
        try:
            here = await self._move_one(channel, message)
        finally:
            self._pipeline.triage_done()
        if here:  # placed: no longer triage's backlog, handled in this process
            try:
                await self._document_here(message)
            finally:
                self._here -= 1

    def _quiet(self) -> bool:
        """Nothing but this submission waits in triage: under a backlog every document goes to
        a lane at once, so an urgent one behind it is reached as soon as it can be."""
        return self._here < HERE_MOST and self._pipeline.triage_in_flight <= 1

    async def _move_one(self, channel: AbstractChannel, message: Delivery) -> bool:
        """Place one submission; True when it is a document to handle here (see the module)."""
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
                self._handler.acks.ack(message)
                return False
            kind = kind_of(message.routing_key or "")
            if kind is None:
                await dead_letter(
                    channel,
                    message,
                    f"unknown routing key {(message.routing_key or '')[:64]!r}: use edoc or "
                    "status (edoc.urgent, status.urgent for hỏa tốc)",
                    {},
                )
                self._handler.acks.ack(message)
                return False
            # Only what the broker checked (user_id, routing key) names the submitter and kind;
            # the publisher's own headers are not carried into the hub.
            if kind == Kind.STATUS.value:
                await self._status(message, message.user_id)
                return False
            if self._quiet():
                self._here += 1
                metrics.labelled(metrics.TRIAGED, "here").inc()
                return True
            await admit(
                channel,
                message,
                self._pipeline.stamper,
                submitter=message.user_id,
                kind=kind,
                urgent_documents=self._pipeline.registry.urgent_documents,
            )
            self._handler.acks.ack(message)
        except broker.TRANSIENT as exc:
            log.warning("triage_broker_error", message_id=message.message_id, error=repr(exc))
            if not channel_closed(message):
                # publishing failed while this channel lives: hand it back to be delivered again
                with contextlib.suppress(*broker.TRANSIENT):
                    await asyncio.sleep(0.5)
                    await self._handler.acks.nack(message, requeue=True)
        return False

    def _lane_and_stamp(
        self, message: Delivery, submitter: str, kind: str
    ) -> tuple[str, dict[str, Any]]:
        """A submission handled here: its lane, and the hub's stamped headers a dead letter of
        it would carry."""
        lane = lane_of(message.body, kind, self._pipeline.registry.urgent_documents)
        ours = self._pipeline.stamper.stamp(
            message_id=message.message_id or "",
            submitter=submitter,
            kind=kind,
            size=len(message.body),
        )
        return lane, ours

    async def _document_here(self, message: Delivery) -> None:
        """A document handled in this process, acknowledged once handled (as a lane's are)."""
        submitter, kind = message.user_id or "", Kind.EDOC.value
        lane, ours = self._lane_and_stamp(message, submitter, kind)
        await self._handler.handle(message, submitter=submitter, kind=kind, lane=lane, ours=ours)

    async def _status(self, message: Delivery, submitter: str) -> None:
        """A status, after the earlier ones of its submitter; acknowledged once handled."""
        lane, ours = self._lane_and_stamp(message, submitter, Kind.STATUS.value)
        async with self._locks.hold(submitter):
            if channel_closed(message):
                return  # the broker delivers it again, in order, to whoever reads ingress
            await self._handler.handle(
                message, submitter=submitter, kind=Kind.STATUS.value, lane=lane, ours=ours
            )
