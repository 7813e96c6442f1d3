"""The hub's consumer (hub.broker.delivery), on the real broker: a message reads as aio-pika's
``IncomingMessage`` of it reads, is settled once, and not on a closed channel."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from collections.abc import AsyncIterator

import aio_pika
import pytest
import structlog
from aio_pika.exceptions import ChannelInvalidStateError, MessageProcessError

from hub.broker import delivery
from hub.broker.delivery import Delivery
from hub.config import Settings


@contextlib.asynccontextmanager
async def _queue_with(
    settings: Settings, *messages: aio_pika.Message
) -> AsyncIterator[tuple[aio_pika.abc.AbstractConnection, aio_pika.abc.AbstractChannel, str]]:
    """A connection, a confirming channel and an exclusive queue holding ``messages``."""
    connection = await aio_pika.connect(settings.amqp.url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        name = f"delivery-{uuid.uuid4().hex}"
        await channel.declare_queue(name, exclusive=True)
        for message in messages:
            await channel.default_exchange.publish(message, routing_key=name)
        yield connection, channel, name
    finally:
        await connection.close()


async def _one(channel: aio_pika.abc.AbstractChannel, queue: str) -> Delivery:
    got: asyncio.Queue[Delivery] = asyncio.Queue()
    await delivery.consume(channel, queue, got.put)
    async with asyncio.timeout(5):
        return await got.get()


async def test_a_delivery_reads_as_aio_pikas_message_of_it(settings: Settings) -> None:
    message = aio_pika.Message(
        b"<edXML/>",
        message_id="m-1",
        user_id=settings.amqp.user,
        content_type="application/xml",
        timestamp=dt.datetime(2026, 12, 5, 8, 30, tzinfo=dt.UTC),
        headers={"x-lienthong-submitter": "000.00.00.G22", "x-n": 7},
    )
    async with _queue_with(settings, message, message) as (connection, channel, name):
        queue = await channel.get_queue(name)
        theirs = await queue.get(timeout=5)
        consumer = await connection.channel()
        ours = await _one(consumer, name)
        for field in ("body", "message_id", "user_id", "routing_key", "content_type", "headers"):
            assert getattr(ours, field) == getattr(theirs, field), field
        assert ours.timestamp is not None and theirs.timestamp is not None
        assert ours.timestamp.replace(tzinfo=dt.UTC) == theirs.timestamp.replace(tzinfo=dt.UTC)
        assert ours.delivery_tag == 1
        await theirs.ack()

        await ours.ack()
        with pytest.raises(MessageProcessError):
            await ours.ack()  # settled once: no second frame naming the tag
        await asyncio.sleep(0.1)
        assert not consumer.is_closed, "RabbitMQ closed the channel (a tag named twice)"


async def test_a_delivery_given_back_comes_again_and_a_closed_channel_is_said(
    settings: Settings,
) -> None:
    async with _queue_with(settings, aio_pika.Message(b"x")) as (connection, _, name):
        consumer = await connection.channel()
        got: asyncio.Queue[Delivery] = asyncio.Queue()
        await delivery.consume(consumer, name, got.put)
        async with asyncio.timeout(5):
            first = await got.get()
            await first.nack(requeue=True)
            again = await got.get()
        assert again.body == b"x" and again.delivery_tag == 2
        await consumer.close()
        with pytest.raises(ChannelInvalidStateError):
            _ = again.channel
        with pytest.raises(ChannelInvalidStateError):
            await again.ack()


async def test_a_callback_that_fails_is_logged_and_the_next_message_still_comes(
    settings: Settings,
) -> None:
    bad, fine = aio_pika.Message(b"bad"), aio_pika.Message(b"good")
    async with _queue_with(settings, bad, fine) as (connection, _, name):
        consumer = await connection.channel()
        good: asyncio.Future[Delivery] = asyncio.get_running_loop().create_future()

        async def on_message(message: Delivery) -> None:
            if message.body == b"bad":
                raise RuntimeError("a bug in a consumer")
            good.set_result(message)

        with structlog.testing.capture_logs() as logs:
            await delivery.consume(consumer, name, on_message)
            async with asyncio.timeout(5):
                await good
        failed = [e for e in logs if e["log_level"] == "error"]
        assert [e["event"] for e in failed] == ["consumer_failed"]
        assert "a bug in a consumer" in failed[0]["error"] and failed[0]["queue"] == name
