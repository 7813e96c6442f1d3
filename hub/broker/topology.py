"""Declare the contract's exchanges and queues (durable, quorum) with the hub's own user."""

from __future__ import annotations

import aio_pika
import aiormq
import structlog
from aio_pika.abc import AbstractChannel, AbstractRobustConnection
from pamqp.common import FieldTable

from hub.broker import names
from hub.errors import ServiceUnavailable

log = structlog.get_logger(__name__)

QUORUM: FieldTable = {"x-queue-type": "quorum"}

INGRESS_ARGUMENTS: FieldTable = {
    **QUORUM,
    # A message that keeps failing is dead-lettered with its reason, never dropped.
    "x-dead-letter-exchange": "",
    "x-dead-letter-routing-key": names.DEAD_QUEUE,
    "x-delivery-limit": 10,
}


_next_node = 0


async def connect_any(
    urls: tuple[str, ...], *, name: str = "lienthong-hub", robust: bool = True
) -> AbstractRobustConnection:
    """A connection to one of a cluster's nodes: each tried in turn, starting after the one
    used last, so that a hub that lost its node goes to another."""
    global _next_node
    failure: ServiceUnavailable | None = None
    for step in range(len(urls)):
        index = (_next_node + step) % len(urls)
        try:
            connection = await connect(urls[index], name=name, robust=robust)
        except ServiceUnavailable as exc:
            failure = exc
            continue
        _next_node = (index + 1) % len(urls)
        log.info("broker_connected", node=urls[index].rsplit("@", 1)[-1])
        return connection
    assert failure is not None
    raise failure


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


ORDERED_INGRESS_ARGUMENTS: FieldTable = {
    **INGRESS_ARGUMENTS,
    # One hub process at a time reads ingress, in the order the broker holds it, so that one
    # submitter's statuses are applied in the order sent (hub.route.triage).
    "x-single-active-consumer": True,
}


async def declare_core(connection: AbstractRobustConnection) -> None:
    """The contract's exchanges and queues: submit, deliver, the dead letters, and the two
    ingress queues (version 2: ``lienthong.ingress.urgent`` for ``edoc.urgent`` and
    ``status.urgent``)."""
    channel = await connection.channel()
    try:
        await channel.declare_exchange(
            names.SUBMIT_EXCHANGE, aio_pika.ExchangeType.DIRECT, durable=True
        )
        await channel.declare_exchange(
            names.DELIVER_EXCHANGE, aio_pika.ExchangeType.DIRECT, durable=True
        )
        await channel.declare_queue(names.DEAD_QUEUE, durable=True, arguments=QUORUM)
    finally:
        await channel.close()
    await _declare_ingress(connection, names.INGRESS_QUEUE, (names.EDOC_KEY, names.STATUS_KEY))
    await _declare_ingress(
        connection,
        names.URGENT_INGRESS_QUEUE,
        (names.EDOC_URGENT_KEY, names.STATUS_URGENT_KEY),
    )


async def _declare_ingress(
    connection: AbstractRobustConnection, name: str, keys: tuple[str, ...]
) -> None:
    channel = await connection.channel()
    try:
        try:
            queue = await channel.declare_queue(
                name, durable=True, arguments=ORDERED_INGRESS_ARGUMENTS
            )
        except aiormq.exceptions.ChannelPreconditionFailed:
            # declared by an earlier version without single-active-consumer: a queue's
            # arguments cannot change while it exists (docs/OPERATIONS.md says how to recreate
            # it); until then statuses keep their order within one hub process only
            log.warning("ingress_without_single_active_consumer", queue=name)
            channel = await connection.channel()
            queue = await channel.declare_queue(name, passive=True)
        submit = await channel.get_exchange(names.SUBMIT_EXCHANGE, ensure=False)
        for key in keys:
            await queue.bind(submit, key)
    finally:
        await channel.close()


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
