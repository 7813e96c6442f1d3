"""Review finding 1: the hub never trusts an ``x-lienthong-*`` header it did not set itself.

An agency publishing without ``user_id`` but with ``x-lienthong-submitter`` naming another
agency used to leave a dead letter that showed — and, requeued, was processed as — that other
agency's submission.
"""

from __future__ import annotations

import asyncio
import uuid

import aio_pika
import pytest

from hub import home
from hub.broker import names
from hub.broker.stamp import STAMP_HEADER, Stamper, without_ours
from hub.route import deadletters
from hub.route.urgency import UrgentDocuments
from tests.conftest import random_organ_id
from tests.harness import World, running_hub


def stamper_of(world: World) -> Stamper:
    return Stamper.for_hub(home.load_hub_identity(world.settings).key)


async def wait_for_dead(world: World, message_id: str) -> deadletters.DeadLetter:
    connection = await aio_pika.connect_robust(world.settings.amqp.url)
    try:
        for _ in range(100):
            found = await deadletters.peek(connection, stamper_of(world))
            for letter in found:
                if letter.message_id == message_id:
                    return letter
            await asyncio.sleep(0.1)
    finally:
        await connection.close()
    raise AssertionError(f"{message_id} never reached lienthong.dead")


async def test_a_forged_submitter_is_neither_shown_nor_requeued(world: World, settings) -> None:
    victim, mallory, recipient = [await world.agency(random_organ_id()) for _ in range(3)]
    # a package the victim really signed (for someone else), replayed by mallory
    signed_by_victim = world.document(victim, [recipient])
    forged = {names.SUBMITTER_HEADER: victim.organ_id, names.KIND_HEADER: "edoc"}
    async with running_hub(settings):
        message_id = await world.send(mallory, signed_by_victim, user_id=False, headers=forged)
        letter = await wait_for_dead(world, message_id)
        assert letter.submitter is None  # was victim's OrganId
        connection = await aio_pika.connect_robust(settings.amqp.url)
        try:
            with pytest.raises(ValueError, match="cannot tell who submitted"):
                await deadletters.take(connection, stamper_of(world), letter.id, requeue=True)
        finally:
            await connection.close()
        assert await world.drain(recipient, wait=1.0) == []

        # with user_id, the headers are simply ignored: it is mallory's submission
        own = await world.send(mallory, signed_by_victim, headers=forged)
        receipt = (await world.receipts(mallory, [own]))[own]
        assert receipt.code == "SENDER_MISMATCH", receipt.detail
        assert await world.drain(recipient, wait=0.5) == []


async def test_only_a_valid_stamp_vouches_for_a_submitter(world: World) -> None:
    stamper = stamper_of(world)
    headers = stamper.stamp(message_id="m-1", submitter="000.00.00.G22", kind="edoc", size=10)
    vouched = stamper.vouched(headers, message_id="m-1", size=10)
    assert vouched is not None and vouched.submitter == "000.00.00.G22"
    for changed in (
        {**headers, names.SUBMITTER_HEADER: "000.00.00.H41"},
        {**headers, names.KIND_HEADER: "status"},
        {**headers, STAMP_HEADER: "0" * 64},
        {k: v for k, v in headers.items() if k != STAMP_HEADER},
    ):
        assert stamper.vouched(changed, message_id="m-1", size=10) is None
    assert stamper.vouched(headers, message_id="m-2", size=10) is None
    assert stamper.vouched(headers, message_id="m-1", size=11) is None
    assert Stamper(b"another hub").vouched(headers, message_id="m-1", size=10) is None
    assert without_ours({**headers, "X-Lienthong-Reason": "x", "traceparent": "t"}) == {
        "traceparent": "t"
    }


async def test_a_dead_letter_with_unstamped_headers_names_no_submitter(world: World) -> None:
    """What RabbitMQ dead-letters from ingress keeps the publisher's headers: not believed."""
    connection = await aio_pika.connect_robust(world.settings.amqp.url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        message_id = f"unstamped-{uuid.uuid4().hex}"
        await channel.default_exchange.publish(
            aio_pika.Message(
                b"<edXML/>",
                message_id=message_id,
                headers={names.SUBMITTER_HEADER: random_organ_id(), names.KIND_HEADER: "edoc"},
            ),
            routing_key=names.DEAD_QUEUE,
        )
        await channel.close()
        letter = await wait_for_dead(world, message_id)
        assert letter.submitter is None and letter.kind is None
        taken = await deadletters.take(
            connection,
            stamper_of(world),
            letter.id,
            requeue=False,
            urgent_documents=UrgentDocuments(),
        )
        assert taken is not None
    finally:
        await connection.close()
