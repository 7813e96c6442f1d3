"""Hỏa tốc overtakes a backlog inside the hub and lands in the urgent inbox."""

from __future__ import annotations

import asyncio
import functools
import time

import aio_pika

from hub.broker import names
from tests.conftest import random_organ_id
from tests.harness import World, running_hub

BACKLOG = 2000


async def test_an_urgent_package_overtakes_a_backlog_of_thousands(world: World, settings) -> None:
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    ordinary = [world.document(sender, [recipient], attachments=[]) for _ in range(BACKLOG)]
    urgent = world.document(sender, [recipient], priority=3, subject="HỎA TỐC")
    # the backlog waits in lienthong.ingress before the hub starts, the urgent one last
    connection = await world.connect(sender)
    channel = await connection.channel(publisher_confirms=True)
    exchange = await channel.get_exchange(names.SUBMIT_EXCHANGE, ensure=False)

    async def publish(body: bytes, number: int) -> None:
        await exchange.publish(
            aio_pika.Message(
                body,
                message_id=f"b-{number}",
                user_id=sender.organ_id,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key="edoc",
        )

    for start in range(0, BACKLOG, 200):
        await asyncio.gather(
            *(publish(b, start + i) for i, b in enumerate(ordinary[start : start + 200]))
        )
    await publish(urgent, BACKLOG)

    arrivals: list[tuple[str, float]] = []
    done = asyncio.Event()
    consumer = await (await world.connect(recipient)).channel()
    await consumer.set_qos(prefetch_count=500)

    async def record(lane: str, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        await message.ack()
        arrivals.append((lane if message.body != urgent else "URGENT", time.monotonic()))
        if len(arrivals) == BACKLOG + 1:
            done.set()

    for lane, queue_name in (
        ("urgent", names.urgent_inbox(recipient.organ_id)),
        ("ordinary", names.inbox(recipient.organ_id)),
    ):
        queue = await consumer.get_queue(queue_name, ensure=False)
        await queue.consume(functools.partial(record, lane))

    async with running_hub(settings, concurrency=32):
        await asyncio.wait_for(done.wait(), timeout=300)
    lanes = [lane for lane, _ in arrivals]
    position = lanes.index("URGENT")
    assert lanes.count("URGENT") == 1
    # it came through the urgent inbox queue (recorded as URGENT there) and long before the
    # backlog drained: fewer than a quarter of the ordinary packages were delivered before it
    assert position < BACKLOG // 4, f"urgent package arrived after {position} ordinary ones"
    drained_after = arrivals[-1][1] - arrivals[position][1]
    assert drained_after > 0
    print(
        f"urgent arrived after {position} of {BACKLOG} ordinary; "
        f"the backlog drained {drained_after:.1f}s later"
    )
