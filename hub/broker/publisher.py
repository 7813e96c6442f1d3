"""Publishing into inboxes with publisher confirms; unroutable messages are reported, not lost.
A package larger than the inline limit goes as a claim check (:mod:`hub.broker.claims`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange
from pamqp.commands import Basic
from pamqp.common import FieldValue

from hub.broker import names, topology, wire
from hub.broker.claims import ClaimChecks
from hub.errors import Unroutable
from hub.record.deliveries import Outbound

Route = Callable[[Outbound], "str | None"]
"""The system whose inbox a delivery goes to (by the live registry), or None if none."""


class Publisher:
    def __init__(
        self,
        channel: AbstractChannel,
        exchange: AbstractExchange,
        route: Route,
        is_system: Callable[[str], bool],
        claims: ClaimChecks,
    ) -> None:
        self._channel = channel
        self._exchange = exchange
        self._route = route
        self._is_system = is_system
        self._claims = claims

    @classmethod
    async def open(
        cls,
        connection: aio_pika.abc.AbstractRobustConnection,
        route: Route,
        is_system: Callable[[str], bool],
        claims: ClaimChecks,
    ) -> Publisher:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        exchange = await channel.get_exchange(names.DELIVER_EXCHANGE, ensure=True)
        return cls(channel, exchange, route, is_system, claims)

    def message(self, out: Outbound) -> tuple[bytes, Basic.Properties]:
        """The body (empty for a claim check) and properties of an inbox message."""
        headers: dict[str, FieldValue] = {}
        body = out.body
        claim = self._claims.claim_for(
            kind=out.kind, message_id=out.message_id, size=len(body), digest=out.digest
        )
        if claim is not None:
            headers.update(claim.headers())
            body = b""
        if out.document_id is not None:
            headers[names.DOCUMENT_HEADER] = out.document_id
        if out.for_agency is not None:
            headers[names.RECIPIENT_HEADER] = out.for_agency
        if out.addressed_to is not None:
            headers[names.ADDRESSED_TO_HEADER] = out.addressed_to
        return body, wire.properties(
            message_id=out.message_id,
            message_type=out.kind,
            headers=headers,
            content_type="application/xml",
            app_id="lienthong",
            timestamp=dt.datetime.now(dt.UTC),
        )

    async def publish(self, out: Outbound) -> None:
        """Publish into the inbox of the system hosting the recipient, and wait for the
        broker's confirm; re-declare a missing inbox once."""
        system = self._route(out)
        if system is None:
            raise Unroutable(f"{out.recipient} is not a registered agency or system: no inbox")
        key = names.inbox_key(system, urgent=out.urgent)
        try:
            await self._send(out, key)
        except aio_pika.exceptions.DeliveryError as exc:
            if exc.message is None:  # nacked by the broker: let the caller retry
                raise
            if not self._is_system(system):
                raise Unroutable(f"{system} is not a registered system: no inbox") from exc
            await topology.declare_inbox(self._channel, system)
            try:
                await self._send(out, key)
            except aio_pika.exceptions.DeliveryError as again:
                raise Unroutable(f"no inbox for system {system}") from again

    async def _send(self, out: Outbound, key: str) -> None:
        body, props = self.message(out)
        await wire.publish(
            self._channel,
            body,
            props,
            exchange=self._exchange.name,
            routing_key=key,
            mandatory=True,
        )

    async def close(self) -> None:
        await self._channel.close()
