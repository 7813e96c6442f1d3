"""Confirmed publishing straight through aiormq (hub.broker.wire), on the real broker: what
arrives is what aio-pika would have sent, and the failures are aio-pika's."""

from __future__ import annotations

import datetime as dt
import uuid

import aio_pika
import pytest

from hub.broker import wire
from hub.config import Settings


async def test_a_confirmed_publish_arrives_persistent_with_its_properties(
    settings: Settings,
) -> None:
    connection = await aio_pika.connect(settings.amqp.url)
    try:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        queue = await channel.declare_queue(f"wire-{uuid.uuid4().hex}", exclusive=True)
        at = dt.datetime(2026, 12, 5, 8, 30, tzinfo=dt.UTC)
        props = wire.properties(
            message_id="m-1",
            headers={"x-document-id": "000.00.00.G22,2026/1", "x-n": 7},
            content_type="application/xml",
            timestamp=at,
            message_type="edoc",
            app_id="lienthong",
        )
        await wire.publish(channel, b"<a/>", props, exchange="", routing_key=queue.name)
        got = await queue.get(timeout=5)
        assert got.body == b"<a/>"
        assert got.message_id == "m-1"
        assert got.headers == {"x-document-id": "000.00.00.G22,2026/1", "x-n": 7}
        assert got.content_type == "application/xml"
        assert got.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
        assert got.timestamp == at
        assert (got.type, got.app_id) == ("edoc", "lienthong")
        await got.ack()
    finally:
        await connection.close()


async def test_a_mandatory_message_nobody_takes_and_a_closed_channel_raise(
    settings: Settings,
) -> None:
    connection = await aio_pika.connect(settings.amqp.url)
    try:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        props = wire.properties(message_id="m-2", headers={}, content_type=None, timestamp=None)
        with pytest.raises(aio_pika.exceptions.DeliveryError) as returned:
            await wire.publish(
                channel, b"x", props, exchange="", routing_key="no-such-queue", mandatory=True
            )
        assert returned.value.message is not None  # returned, not nacked: Unroutable upstream
        await channel.close()
        with pytest.raises(aio_pika.exceptions.ChannelInvalidStateError):
            await wire.publish(channel, b"x", props, exchange="", routing_key="q")
    finally:
        await connection.close()
