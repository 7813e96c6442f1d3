"""Acknowledgements several at a time (hub/broker/acks.py): the ledger's plan never settles a
tag still in flight nor names one already settled, whatever the order; and against the real
RabbitMQ, messages handled out of order and some given back are all settled once, on a channel
that stays open."""

from __future__ import annotations

import asyncio
import random
import uuid

import aio_pika
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.broker import delivery
from hub.broker.acks import Acknowledger, Ledger
from hub.broker.delivery import Consumed
from hub.config import Settings


def test_a_run_from_the_lowest_unsettled_tag_goes_as_one_ack() -> None:
    ledger = Ledger()
    plan = ledger.plan([2, 1, 3])
    assert (plan.together, plan.alone) == (3, ())
    plan = ledger.plan([5, 6])  # 4 still in flight: nothing waits for it
    assert (plan.together, plan.alone) == (None, (5, 6))
    plan = ledger.plan([4, 8])  # 4 closes the gap up to 6; 7 is in flight
    assert (plan.together, plan.alone) == (4, (8,))
    ledger.settle(7)  # given back
    assert ledger.floor == 8 and not ledger.above


def test_a_run_ends_below_a_tag_already_settled() -> None:
    """ack(multiple) names a tag handled this turn, never one sent before (RabbitMQ would close
    the channel: unknown delivery tag)."""
    ledger = Ledger()
    assert ledger.plan([2]).alone == (2,)
    plan = ledger.plan([1])
    assert (plan.together, plan.alone) == (1, ())
    assert ledger.floor == 2


@given(
    st.lists(st.integers(min_value=1, max_value=6), min_size=1, max_size=40),
    st.randoms(use_true_random=False),
)
def test_whatever_the_order_each_tag_is_settled_once(turns: list[int], rnd: random.Random) -> None:
    """As RabbitMQ sees it: a frame may only name an outstanding tag; ack(multiple) settles every
    outstanding tag up to it. Handled in any order, some given back, all end settled once."""
    tags = list(range(1, len(turns) + 1))
    rnd.shuffle(tags)
    outstanding = set(tags)
    ledger = Ledger()
    at = 0
    for size in turns:
        turn, at = tags[at : at + size], at + size
        handled = []
        for tag in turn:
            if rnd.random() < 0.2:
                assert tag in outstanding
                outstanding.discard(tag)  # nack, sent at once
                ledger.settle(tag)
            else:
                handled.append(tag)
        plan = ledger.plan(handled)
        if plan.together is not None:
            assert plan.together in outstanding and plan.together in handled
            covered = {t for t in outstanding if t <= plan.together}
            assert covered <= set(handled), "a run settled a tag still in flight"
            outstanding -= covered
        for tag in plan.alone:
            assert tag in outstanding
            outstanding.discard(tag)
        assert set(handled).isdisjoint(outstanding)
    assert not outstanding
    assert ledger.floor == len(tags) and not ledger.above


@pytest.mark.parametrize("consumer_kind", ["hub", "aio-pika"])
async def test_out_of_order_and_given_back_all_are_settled_on_a_live_channel(
    settings: Settings, consumer_kind: str
) -> None:
    """Through the hub's own consumer (hub.broker.delivery) and through aio-pika's, whose
    messages an operator's requeue of dead letters acknowledges."""
    name = f"lienthong.test.acks.{uuid.uuid4().hex[:8]}"
    connection = await aio_pika.connect(settings.amqp.url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        queue = await channel.declare_queue(name, auto_delete=False)
        for index in range(60):
            await channel.default_exchange.publish(
                aio_pika.Message(str(index).encode()), routing_key=name
            )
        consumer = await connection.channel()
        await consumer.set_qos(prefetch_count=60)
        acks = Acknowledger()
        taken: list[Consumed] = []
        given_back: set[bytes] = set()
        acked: set[bytes] = set()

        async def on_message(message: Consumed) -> None:
            taken.append(message)

        if consumer_kind == "hub":
            await delivery.consume(consumer, name, on_message)
        else:
            await (await consumer.get_queue(name)).consume(on_message)
        shuffled = random.Random(7)
        handled = 0
        async with asyncio.timeout(10):
            while len(acked) < 60:
                await asyncio.sleep(0.01)
                batch = taken[handled:]
                handled = len(taken)
                shuffled.shuffle(batch)
                for message in batch:
                    if message.body in (b"5", b"17", b"42") and message.body not in given_back:
                        given_back.add(message.body)
                        await acks.nack(message, requeue=True)  # delivered again, then acked
                    else:
                        acks.ack(message)
                        acked.add(message.body)
                await asyncio.sleep(0)  # a turn: the acks go
        await asyncio.sleep(0.2)
        assert not consumer.is_closed, "RabbitMQ closed the channel (a tag named twice)"
        assert given_back == {b"5", b"17", b"42"}
        await consumer.close()  # what is unacknowledged now goes back to the queue
        left = await channel.declare_queue(name, passive=True)
        assert left.declaration_result.message_count == 0
        await queue.delete(if_unused=False, if_empty=False)
    finally:
        await connection.close()
