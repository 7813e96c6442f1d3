"""Publishing into inboxes with publisher confirms; unroutable messages are reported, not lost."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange
from pamqp.common import FieldValue

from hub.broker import names, topology
from hub.records import Outbound


class Unroutable(Exception):
    """No inbox is bound for the recipient (not a registered agency)."""


class Publisher:
    def __init__(
        self,
        channel: AbstractChannel,
        exchange: AbstractExchange,
        is_agency: Callable[[str], bool],
    ) -> None:
        self._channel = channel
        self._exchange = exchange
        self._is_agency = is_agency

    @classmethod
    async def open(
        cls, connection: aio_pika.abc.AbstractRobustConnection, is_agency: Callable[[str], bool]
    ) -> Publisher:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await channel.get_exchange(names.DELIVER_EXCHANGE, ensure=True)
        return cls(channel, exchange, is_agency)

    @staticmethod
    def message(out: Outbound) -> aio_pika.Message:
        headers: dict[str, FieldValue] = {}
        if out.document_id is not None:
            headers[names.DOCUMENT_HEADER] = out.document_id
        return aio_pika.Message(
            out.body,
            message_id=out.message_id,
            type=out.kind,
            headers=headers,
            content_type="application/xml",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            app_id="lienthong",
            timestamp=dt.datetime.now(dt.UTC),
        )

    async def publish(self, out: Outbound) -> None:
        """Publish and wait for the broker's confirm; re-declare a missing inbox once."""
        try:
            await self._exchange.publish(
                self.message(out), routing_key=out.routing_key, mandatory=True
            )
        except aio_pika.exceptions.DeliveryError as exc:
            if exc.message is None:  # nacked by the broker: let the caller retry
                raise
            if not self._is_agency(out.recipient):
                raise Unroutable(f"{out.recipient} is not a registered agency: no inbox") from exc
            await topology.declare_inbox(self._channel, out.recipient)
            try:
                await self._exchange.publish(
                    self.message(out), routing_key=out.routing_key, mandatory=True
                )
            except aio_pika.exceptions.DeliveryError as again:
                raise Unroutable(f"no inbox for {out.recipient}") from again

    async def close(self) -> None:
        await self._channel.close()
