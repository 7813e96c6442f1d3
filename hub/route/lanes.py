"""The hub's internal lanes: a submission admitted into its lane (urgent or ordinary) with
the hub's stamped headers only, copies into the hub's queues, and dead letters. Used by triage
(:mod:`hub.route.worker`) and by an operator's requeue (:mod:`hub.route.deadletters`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel

from hub import metrics
from hub.broker import names, wire
from hub.broker.delivery import Consumed
from hub.broker.stamp import STAMP_HEADER, Stamper, without_ours
from hub.route.urgency import UrgentDocuments, lane_of


async def forward(
    channel: AbstractChannel,
    message: Consumed,
    queue: str,
    headers: dict[str, Any],
    *,
    timestamp: dt.datetime | None,
) -> None:
    """Copy a message, body and id unchanged, into one of the hub's queues (confirmed)."""
    props = wire.properties(
        message_id=message.message_id,
        headers=headers,
        content_type=message.content_type,
        timestamp=timestamp,
    )
    # mandatory, as aio-pika's publish was: a missing queue is an error, not a silent drop
    await wire.publish(channel, message.body, props, exchange="", routing_key=queue, mandatory=True)


async def dead_letter(
    channel: AbstractChannel,
    message: Consumed,
    reason: str,
    ours: Mapping[str, Any],
) -> None:
    """Copy the message to lienthong.dead with the reason in a header (publisher confirm).

    ``ours`` are the hub's own stamped headers for it (empty when the hub cannot say who
    submitted it); whatever ``x-lienthong-*`` header the publisher sent is dropped, so a dead
    letter never shows, nor can be requeued under, a submitter the hub did not establish."""
    headers = without_ours(message.headers)
    headers.update(ours)
    headers[names.REASON_HEADER] = reason[:1000]
    await forward(channel, message, names.DEAD_QUEUE, headers, timestamp=dt.datetime.now(dt.UTC))
    metrics.DEAD_LETTERS.labels(reason.split(":", 1)[0][:40]).inc()


def channel_closed(message: Consumed) -> bool:
    """Whether the channel a message came on is gone (then the broker delivers it again)."""
    try:
        return bool(message.channel.is_closed)
    except aio_pika.exceptions.ChannelInvalidStateError:
        return True


async def admit(
    channel: AbstractChannel,
    message: Consumed,
    stamper: Stamper,
    *,
    submitter: str,
    kind: str,
    urgent_documents: UrgentDocuments,
) -> None:
    """Put a submission into its lane with the hub's stamped headers only (triage, and an
    operator's requeue of a dead letter, which thus meets the same checks as a fresh one)."""
    lane = lane_of(message.body, kind, urgent_documents)
    headers = stamper.stamp(
        message_id=message.message_id or "",
        submitter=submitter,
        kind=kind,
        size=len(message.body),
    )
    headers[names.RECEIVED_HEADER] = dt.datetime.now(dt.UTC).isoformat()
    await forward(
        channel,
        message,
        names.URGENT_WORK_QUEUE if lane == "urgent" else names.WORK_QUEUE,
        headers,
        timestamp=message.timestamp,
    )
    metrics.labelled(metrics.TRIAGED, lane).inc()


def hub_headers(message: Consumed) -> dict[str, Any]:
    """The headers the hub set on a message of its work lanes (only its user writes there)."""
    headers = message.headers or {}
    return {
        k: headers[k]
        for k in (names.SUBMITTER_HEADER, names.KIND_HEADER, STAMP_HEADER, names.RECEIVED_HEADER)
        if k in headers
    }
