"""Declare the contract's exchanges and queues (durable, quorum) with the hub's own user."""

from __future__ import annotations

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractRobustConnection
from pamqp.common import FieldTable

from hub.broker import names
from hub.errors import ServiceUnavailable

QUORUM: FieldTable = {"x-queue-type": "quorum"}

INGRESS_ARGUMENTS: FieldTable = {
    **QUORUM,
    # A message that keeps failing is dead-lettered with its reason, never dropped.
    "x-dead-letter-exchange": "",
    "x-dead-letter-routing-key": names.DEAD_QUEUE,
    "x-delivery-limit": 10,
}


async def connect(
    url: str, *, name: str = "lienthong-hub", robust: bool = True
) -> AbstractRobustConnection:
    """A connection; ``robust=False`` for the hub's pipeline, which restarts its broker side
    itself when the connection is lost (aio-pika's automatic restore of consumers was seen to
    fail silently when quorum queues were not yet ready after a broker restart)."""
    try:
        if not robust:
            plain = await aio_pika.connect(url, client_properties={"connection_name": name})
            return plain  # type: ignore[return-value]
        return await aio_pika.connect_robust(url, client_properties={"connection_name": name})
    except (OSError, aio_pika.exceptions.AMQPError) as exc:
        host = url.rsplit("@", 1)[-1]
        raise ServiceUnavailable(
            f"cannot reach RabbitMQ at {host} ({type(exc).__name__}: {exc}); is it running? "
            "(scripts/services.sh starts it) Check LIENTHONG_AMQP_URL."
        ) from exc


async def declare_core(channel: AbstractChannel) -> None:
    submit = await channel.declare_exchange(
        names.SUBMIT_EXCHANGE, aio_pika.ExchangeType.DIRECT, durable=True
    )
    await channel.declare_exchange(
        names.DELIVER_EXCHANGE, aio_pika.ExchangeType.DIRECT, durable=True
    )
    await channel.declare_queue(names.DEAD_QUEUE, durable=True, arguments=QUORUM)
    ingress = await channel.declare_queue(
        names.INGRESS_QUEUE, durable=True, arguments=INGRESS_ARGUMENTS
    )
    await ingress.bind(submit, names.EDOC_KEY)
    await ingress.bind(submit, names.STATUS_KEY)


WORK_ARGUMENTS: FieldTable = {
    **QUORUM,
    "x-dead-letter-exchange": "",
    "x-dead-letter-routing-key": names.DEAD_QUEUE,
    "x-delivery-limit": 20,
}


async def declare_work(channel: AbstractChannel) -> None:
    """The hub's internal lanes (ordinary and urgent) between triage and the workers."""
    for name in (names.WORK_QUEUE, names.URGENT_WORK_QUEUE):
        await channel.declare_queue(name, durable=True, arguments=WORK_ARGUMENTS)


async def declare_inbox(channel: AbstractChannel, organ_id: str) -> None:
    deliver = await channel.get_exchange(names.DELIVER_EXCHANGE, ensure=True)
    for urgent in (False, True):
        name = names.urgent_inbox(organ_id) if urgent else names.inbox(organ_id)
        queue = await channel.declare_queue(name, durable=True, arguments=QUORUM)
        await queue.bind(deliver, names.inbox_key(organ_id, urgent=urgent))
