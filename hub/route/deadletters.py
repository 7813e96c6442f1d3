"""Dead letters in ``lienthong.dead``: list, inspect, requeue, discard — for operators.

The queue stays the one place dead letters live (outside tools look there, as the contract
says). Listing takes messages with ``basic.get`` without acknowledging them and closes the
channel, which returns them all; requeue and discard take the one asked for and acknowledge it
(after, for a requeue, the broker confirmed its copy into the hub's work queue).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from hub.broker import names
from hub.broker.stamp import Stamper
from hub.route.lanes import admit
from hub.route.urgency import UrgentDocuments

MAX_SCAN = 10_000
_lock = asyncio.Lock()


@dataclass(frozen=True, kw_only=True, slots=True)
class DeadLetter:
    id: str
    message_id: str | None
    submitter: str | None
    kind: str | None
    reason: str
    size: int
    dead_at: str | None
    body: bytes

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "message_id": self.message_id,
            "submitter": self.submitter,
            "kind": self.kind,
            "reason": self.reason,
            "size": self.size,
            "dead_at": self.dead_at,
        }


def _x_death(headers: dict[str, Any]) -> dict[str, Any]:
    deaths = headers.get("x-death")
    if isinstance(deaths, list) and deaths and isinstance(deaths[0], dict):
        return deaths[0]
    return {}


def describe(message: AbstractIncomingMessage, stamper: Stamper) -> DeadLetter:
    """What a dead letter is. Its submitter is one the hub established — stamped by the hub,
    or the broker-checked ``user_id`` of a submission RabbitMQ dead-lettered from ingress —
    never a header the publisher wrote."""
    headers = dict(message.headers or {})
    death = _x_death(headers)
    vouched = stamper.vouched(headers, message_id=message.message_id or "", size=len(message.body))
    submitter: str | None
    kind: str | None
    if vouched is not None:
        submitter, kind = vouched.submitter, vouched.kind
    else:
        submitter = message.user_id or None
        keys = death.get("routing-keys")
        kind = str(keys[0]) if submitter and isinstance(keys, list) and keys else None
    reason = headers.get(names.REASON_HEADER)
    if reason is None and death:
        reason = f"{death.get('reason', 'dead-lettered')} by RabbitMQ from {death.get('queue')}"
    at = message.timestamp or death.get("time")
    digest = hashlib.sha256(message.body).hexdigest()[:16]
    return DeadLetter(
        id=message.message_id or f"sha256-{digest}",
        message_id=message.message_id,
        submitter=submitter,
        kind=kind,
        reason=str(reason or "unknown"),
        size=len(message.body),
        dead_at=at.isoformat() if isinstance(at, dt.datetime) else None,
        body=message.body,
    )


async def _scan(
    connection: AbstractRobustConnection,
    stamper: Stamper,
    *,
    limit: int,
    wanted: str | None = None,
) -> tuple[aio_pika.abc.AbstractChannel, list[tuple[AbstractIncomingMessage, DeadLetter]]]:
    channel = await connection.channel(publisher_confirms=True)
    queue = await channel.get_queue(names.DEAD_QUEUE, ensure=False)
    found = []
    for _ in range(min(limit, MAX_SCAN)):
        message = await queue.get(no_ack=False, fail=False)
        if message is None:
            break
        letter = describe(message, stamper)
        found.append((message, letter))
        if wanted is not None and letter.id == wanted:
            break
    return channel, found


async def peek(
    connection: AbstractRobustConnection, stamper: Stamper, *, limit: int = 200
) -> list[DeadLetter]:
    """The dead letters, oldest first, left where they are."""
    async with _lock:
        channel, found = await _scan(connection, stamper, limit=limit)
        await channel.close()  # unacknowledged: every one goes back
    return [letter for _, letter in found]


async def take(
    connection: AbstractRobustConnection,
    stamper: Stamper,
    letter_id: str,
    *,
    requeue: bool,
    urgent_documents: UrgentDocuments | None = None,
) -> DeadLetter | None:
    """Requeue or discard one dead letter; None if not there. A requeue goes where triage
    puts a fresh submission (its lane, with only the hub's stamped headers), so the workers
    check it as they check any other."""
    async with _lock:
        channel, found = await _scan(connection, stamper, limit=MAX_SCAN, wanted=letter_id)
        try:
            match = next(((m, d) for m, d in found if d.id == letter_id), None)
            if match is None:
                return None
            message, letter = match
            if requeue:
                if not letter.submitter or letter.kind not in ("edoc", "status"):
                    raise ValueError(
                        "the hub cannot tell who submitted this dead letter (no user_id, and no "
                        "submitter the hub itself stamped), so it cannot process it again; "
                        "discard it and ask the agency to resubmit"
                    )
                await admit(
                    channel,
                    message,
                    stamper,
                    submitter=letter.submitter,
                    kind=letter.kind,
                    urgent_documents=urgent_documents or UrgentDocuments(),
                )
            await message.ack()
            return letter
        finally:
            await channel.close()
