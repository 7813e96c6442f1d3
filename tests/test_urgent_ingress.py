"""Urgent ingress (contract, version 2): `edoc.urgent` and `status.urgent` reach the hub through
`lienthong.ingress.urgent`; a package published there that is not urgent is handled as
ordinary. And a hub started on a broker where an earlier version declared `lienthong.ingress`
without single-active-consumer still starts, and says so."""

from __future__ import annotations

import aio_pika

from hub.broker import names
from hub.broker.topology import INGRESS_ARGUMENTS
from tests.conftest import random_organ_id
from tests.harness import World, running_hub


async def test_urgent_routing_keys_are_taken_and_urgency_is_read_from_the_package(
    world: World, settings
) -> None:
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    document_id = f"{sender.organ_id},2026/12/05,{random_organ_id()[-4:]}/HT"
    urgent = world.document(sender, [recipient], priority=3, document_id=document_id)
    plain = world.document(sender, [recipient])
    async with running_hub(settings):
        first = await world.send(sender, urgent, kind="edoc.urgent")
        second = await world.send(sender, plain, kind="edoc.urgent")
        got = await world.receipts(sender, [first, second])
        assert got[first].accepted and got[second].accepted
        inbox_urgent = await world.drain(recipient, urgent=True, wait=1.0)
        inbox_plain = await world.drain(recipient, urgent=False, wait=0.5)
        assert [m.body for m in inbox_urgent] == [urgent]
        assert [m.body for m in inbox_plain] == [plain]  # not urgent: handled as ordinary
        status = await world.send(
            recipient,
            world.status(recipient, sender.organ_id, document_id, "01"),
            kind="status.urgent",
        )
        assert (await world.receipts(recipient, [status]))[status].accepted
        arrived = await world.drain(sender, urgent=True, wait=1.0)
        assert [m.type for m in arrived if m.type == "status"] == ["status"]


async def test_an_ingress_declared_by_an_earlier_version_is_used_as_it_is(
    world: World, settings
) -> None:
    connection = await aio_pika.connect(settings.amqp.url)
    try:
        channel = await connection.channel()
        await channel.queue_delete(names.INGRESS_QUEUE)
        await channel.declare_queue(names.INGRESS_QUEUE, durable=True, arguments=INGRESS_ARGUMENTS)
    finally:
        await connection.close()
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    async with running_hub(settings):
        sent = await world.send(sender, world.document(sender, [recipient]))
        assert (await world.receipts(sender, [sent]))[sent].accepted
