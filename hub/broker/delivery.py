"""A message the hub consumed, read straight off aiormq's ``DeliveredMessage``.

aio-pika hands a consumer an ``IncomingMessage``: fifteen properties copied, each through a
``__setattr__`` that checks a lock, and two more tasks per delivery (aiormq runs the consumer
in one; aio-pika's wraps the callback in another) — some 30 µs of the event loop's time per
message, two messages per document. The hub reads the few properties it uses where aiormq
decoded them, when it uses them, and runs its callback in aiormq's task (:func:`consume`).

:class:`Delivery` and aio-pika's ``IncomingMessage`` (what an operator's ``basic.get`` of dead
letters returns) both satisfy :class:`Consumed`, which is all the hub's lanes read. Settling
is as aio-pika's: a message is acknowledged or given back once (a second time raises before a
frame is sent — RabbitMQ would close the channel for an unknown delivery tag), and not on a
closed channel.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import aiormq
import structlog
from aio_pika.abc import AbstractChannel
from aio_pika.exceptions import ChannelInvalidStateError, MessageProcessError
from aiormq.abc import DeliveredMessage

log = structlog.get_logger(__name__)


class Consumed(Protocol):
    """What the hub reads of a consumed message (aio-pika's and :class:`Delivery` alike)."""

    @property
    def body(self) -> bytes: ...
    @property
    def message_id(self) -> str | None: ...
    @property
    def user_id(self) -> str | None: ...
    @property
    def routing_key(self) -> str | None: ...
    @property
    def content_type(self) -> str | None: ...
    @property
    def timestamp(self) -> dt.datetime | None: ...
    @property
    def headers(self) -> Any: ...
    @property
    def delivery_tag(self) -> int | None: ...
    @property
    def channel(self) -> aiormq.abc.AbstractChannel: ...

    async def ack(self, multiple: bool = False) -> None: ...
    async def nack(self, multiple: bool = False, requeue: bool = True) -> None: ...


class Delivery:
    """One message delivered to a consumer of the hub (see the module)."""

    __slots__ = ("_channel", "_properties", "_settled", "body", "delivery_tag", "routing_key")

    def __init__(self, message: DeliveredMessage) -> None:
        self.body: bytes = message.body
        self.delivery_tag: int | None = message.delivery_tag
        self.routing_key: str | None = message.routing_key
        self._channel = message.channel
        self._properties = message.header.properties
        self._settled = False

    @property
    def message_id(self) -> str | None:
        return self._properties.message_id

    @property
    def user_id(self) -> str | None:
        return self._properties.user_id

    @property
    def content_type(self) -> str | None:
        return self._properties.content_type

    @property
    def timestamp(self) -> dt.datetime | None:
        return self._properties.timestamp

    @property
    def headers(self) -> dict[str, Any]:
        return self._properties.headers or {}

    @property
    def channel(self) -> aiormq.abc.AbstractChannel:
        """The channel it came on; raises, as aio-pika does, once that channel is closed."""
        if self._channel.is_closed:
            raise ChannelInvalidStateError
        return self._channel

    def _settle(self) -> int | None:
        if self._settled:
            raise MessageProcessError("Message already processed", self)
        self._settled = True
        return self.delivery_tag

    async def ack(self, multiple: bool = False) -> None:
        channel = self.channel
        tag = self._settle()
        if tag is not None:
            await channel.basic_ack(delivery_tag=tag, multiple=multiple)

    async def nack(self, multiple: bool = False, requeue: bool = True) -> None:
        channel = self.channel
        tag = self._settle()
        if tag is not None:
            await channel.basic_nack(delivery_tag=tag, multiple=multiple, requeue=requeue)


async def consume(
    channel: AbstractChannel, queue: str, callback: Callable[[Delivery], Awaitable[None]]
) -> str:
    """Consume ``queue`` on ``channel``: ``callback`` runs, for each message, in the task aiormq
    starts for it. Returns the consumer tag. Like the hub's aio-pika consumers before, nothing
    consumes again on a reopened channel: losing the connection restarts the hub's broker side
    (:func:`hub.server.keep_serving`)."""
    underlay = await channel.get_underlay_channel()

    async def deliver(message: DeliveredMessage) -> None:
        try:
            await callback(Delivery(message))
        except Exception as exc:  # aiormq keeps its tasks' errors to itself: say it here
            log.error("consumer_failed", queue=queue, error=repr(exc))

    result = await underlay.basic_consume(queue=queue, consumer_callback=deliver)
    return str(result.consumer_tag)
