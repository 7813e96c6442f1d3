"""Acknowledging what the hub consumed, several messages at a time.

A message is acknowledged once handled, as before; what changes is how the acknowledgements of
one event-loop turn reach RabbitMQ. On each consuming channel the delivery tags run 1, 2, 3 …;
the messages handled in one turn whose tags, with those already settled, make a run from the
lowest unsettled tag go as **one** ``basic.ack`` with ``multiple`` (RabbitMQ settles a quorum
queue's run in one command); the others go one by one in the same turn. Nothing waits for a
slow message: a tag still in flight only stops the run, it never holds back the acks after it.

:class:`Ledger` is the pure bookkeeping (which tag to send with ``multiple``, which alone);
:class:`Acknowledger` sends, in order per channel — an ``ack(multiple)`` must never reach the
broker before the single ack, nack or reject of a tag below it, or it would settle that tag and
the later frame would name an unknown tag (and RabbitMQ closes the channel).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from hub import broker, metrics
from hub.broker.delivery import Consumed

log = structlog.get_logger(__name__)


@dataclass(frozen=True, kw_only=True, slots=True)
class Plan:
    """What one turn sends: ``together`` as ``ack(multiple=True)`` (``None``: nothing), then
    ``alone`` one by one."""

    together: int | None
    alone: tuple[int, ...]


@dataclass(kw_only=True, slots=True)
class Ledger:
    """The delivery tags of one channel: all up to :attr:`floor` are settled; :attr:`above`
    are settled tags beyond it (sent alone, or nacked)."""

    floor: int = 0
    above: set[int] = field(default_factory=set)

    def settle(self, tag: int) -> None:
        """A tag settled outside :meth:`plan` (nacked, rejected) — already sent."""
        self.above.add(tag)
        self._advance()

    def plan(self, handled: list[int]) -> Plan:
        """The acks of the tags ``handled`` this turn (none of them settled yet)."""
        was = self.floor
        self.above.update(handled)
        self._advance()
        covered = [tag for tag in handled if was < tag <= self.floor]
        alone = tuple(sorted(tag for tag in handled if tag > self.floor))
        return Plan(together=max(covered) if covered else None, alone=alone)

    def _advance(self) -> None:
        while self.floor + 1 in self.above:
            self.floor += 1
            self.above.discard(self.floor)


@dataclass(kw_only=True, slots=True)
class _Channel:
    ledger: Ledger = field(default_factory=Ledger)
    handled: dict[int, Consumed] = field(default_factory=dict)
    scheduled: bool = False
    tail: asyncio.Future[None] | None = None
    """The last send of this channel: each waits for the one before it."""


class Acknowledger:
    """Acknowledges messages at the end of the loop's turn (see the module)."""

    def __init__(self) -> None:
        self._channels: weakref.WeakKeyDictionary[Any, _Channel] = weakref.WeakKeyDictionary()
        self._sending: set[asyncio.Future[None]] = set()
        """Sends under way (held here: the loop keeps only weak references to tasks)."""

    def ack(self, message: Consumed) -> None:
        """Acknowledge ``message`` (sent before the loop's next turn; a failure means the
        broker delivers it again, which the hub's idempotency absorbs)."""
        tag = message.delivery_tag
        if tag is None:
            return
        state = self._state(message)
        state.handled[tag] = message
        if not state.scheduled:
            state.scheduled = True
            asyncio.get_running_loop().call_soon(self._flush, state)

    async def nack(self, message: Consumed, *, requeue: bool) -> None:
        """Give ``message`` back (or drop it), in order with this channel's acks."""
        tag = message.delivery_tag
        if tag is None:
            return
        state = self._state(message)
        state.ledger.settle(tag)
        await self._enqueue(state, lambda: message.nack(requeue=requeue))

    def _state(self, message: Consumed) -> _Channel:
        channel = message.channel  # the underlying channel: a reopened one numbers tags anew
        state = self._channels.get(channel)
        if state is None:
            state = self._channels[channel] = _Channel()
        return state

    def _flush(self, state: _Channel) -> None:
        state.scheduled = False
        handled, state.handled = state.handled, {}
        plan = state.ledger.plan(list(handled))

        async def send() -> None:
            if plan.together is not None:
                await handled[plan.together].ack(multiple=True)
            for tag in plan.alone:
                await handled[tag].ack()

        if plan.together is not None:
            metrics.ACK_RUNS.inc()
        metrics.labelled(metrics.ACKS, "together").inc(len(handled) - len(plan.alone))
        metrics.labelled(metrics.ACKS, "alone").inc(len(plan.alone))
        self._enqueue(state, send).add_done_callback(_quietly)

    def _enqueue(
        self, state: _Channel, frames: Callable[[], Awaitable[None]]
    ) -> asyncio.Future[None]:
        """Send ``frames`` after everything enqueued before on this channel (the order of the
        calls, not of the tasks' first steps)."""
        before = state.tail
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        state.tail = done

        async def in_turn() -> None:
            try:
                if before is not None:
                    await before  # never fails: set in this finally
                await frames()
            finally:
                done.set_result(None)
                if state.tail is done:
                    state.tail = None

        task = asyncio.ensure_future(in_turn())
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)
        return task


def _quietly(task: asyncio.Future[None]) -> None:
    """A failed ack: the channel is gone and the broker delivers those messages again."""
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        level = log.info if isinstance(error, broker.TRANSIENT) else log.warning
        level("ack_failed", error=repr(error))
