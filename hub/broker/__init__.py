"""RabbitMQ edge: the topology (exchanges, queues, bindings) and the management API."""

from __future__ import annotations

import asyncio

import aio_pika

# What RabbitMQ or the network may raise and a later try may not: the one place the
# driver's exceptions are classified (publishing and consuming retry these).
TRANSIENT = (
    aio_pika.exceptions.AMQPError,
    aio_pika.exceptions.ChannelInvalidStateError,
    ConnectionError,
    asyncio.TimeoutError,
)
