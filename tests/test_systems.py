"""Connected systems (contract, version 2): a system hosts agencies, sends and receives for
each of them, and the hub binds every package to the system that hosts its sender."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import aio_pika
import pytest

from hub import timeline
from hub.broker import names
from hub.errors import RegistryError
from hub.registry import directory, registry, systems
from tests.conftest import random_organ_id
from tests.harness import World, assert_confined, running_hub


def system_id() -> str:
    return f"vxp.test.{uuid.uuid4().hex[:8]}"


async def test_a_system_sends_and_receives_for_each_agency_it_hosts(world: World, settings) -> None:
    platform = await world.system(system_id())
    hosted = [await world.agency(random_organ_id(), host=platform) for _ in range(3)]
    ministry = await world.agency(random_organ_id())  # version 1: its own system
    async with running_hub(settings):
        # the ministry writes to all three in one package: three deliveries, one per agency
        message_id = await world.send(ministry, world.document(ministry, hosted))
        receipt = (await world.receipts(ministry, [message_id]))[message_id]
        assert receipt.accepted, receipt.detail
        arrived = await world.drain(hosted[0], wait=1.0)  # the platform's inbox
        assert sorted(m.headers[names.RECIPIENT_HEADER] for m in arrived) == sorted(
            a.organ_id for a in hosted
        )
        assert len({m.message_id for m in arrived}) == 3
        # each hosted agency sends, through the platform's one broker user
        sent = {a.organ_id: await world.send(a, world.document(a, [ministry])) for a in hosted}
        receipts = await world.receipts(hosted[0], list(sent.values()))
        assert all(r.accepted for r in receipts.values()), receipts
        documents = [m for m in await world.drain(ministry, wait=1.0) if m.type == "edoc"]
        assert (
            sorted(m.headers[names.RECIPIENT_HEADER] for m in documents) == [ministry.organ_id] * 3
        )
        # version 1 names and behaviour: the ministry's inbox is lienthong.inbox.<its OrganId>
        assert ministry.system == ministry.organ_id


async def test_receipts_name_the_agency_the_package_was_from(world: World, settings) -> None:
    platform = await world.system(system_id())
    first, second = [await world.agency(random_organ_id(), host=platform) for _ in range(2)]
    other = await world.agency(random_organ_id())
    async with running_hub(settings):
        sent = await world.send(second, world.document(second, [other]))
        connection = await world.connect(second)
        channel = await connection.channel()
        queue = await channel.get_queue(names.inbox(platform.system_id), ensure=False)
        for _ in range(100):
            message = await queue.get(fail=False)
            if message is not None:
                break
            await asyncio.sleep(0.1)
        assert message is not None and message.type == "receipt"
        assert message.headers[names.RECIPIENT_HEADER] == second.organ_id
        await message.ack()
        await channel.close()
        assert first.organ_id != second.organ_id and sent


async def test_an_agency_of_one_system_cannot_be_used_by_another(world: World, settings) -> None:
    a, b = await world.system(system_id()), await world.system(system_id())
    of_a = await world.agency(random_organ_id(), host=a)
    of_b = await world.agency(random_organ_id(), host=b)
    recipient = await world.agency(random_organ_id())
    async with running_hub(settings):
        # system B submits a package of A's agency, correctly signed by that agency
        forged = world.document(of_a, [recipient])
        sent = await world.send(of_b, forged)
        refused = (await world.receipts(of_b, [sent]))[sent]
        assert refused.code == "SENDER_MISMATCH"
        for name in (of_a.organ_id, a.system_id, b.system_id):
            assert name in refused.detail
        assert [m for m in await world.drain(recipient, wait=0.5) if m.type == "edoc"] == []


async def test_moving_an_agency_redirects_its_next_delivery(world: World, settings) -> None:
    old, new = await world.system(system_id()), await world.system(system_id())
    mover = await world.agency(random_organ_id(), host=old)
    sender = await world.agency(random_organ_id())
    async with running_hub(settings):
        first = await world.send(sender, world.document(sender, [mover]))
        assert (await world.receipts(sender, [first]))[first].accepted
        assert len([m for m in await world.drain(mover, wait=1.0) if m.type == "edoc"]) == 1
        assert await registry.move_agency(world.session.db, mover.organ_id, new.system_id)
        await asyncio.sleep(2.5)  # every hub follows within the contract's five seconds
        second = await world.send(sender, world.document(sender, [mover]))
        assert (await world.receipts(sender, [second]))[second].accepted
        assert [m for m in await world.drain(mover, wait=1.0) if m.type == "edoc"] == []
        moved = await world.agency(random_organ_id(), host=new)  # a connection as `new`
        arrived = [m for m in await world.drain(moved, wait=1.0) if m.type == "edoc"]
        assert [m.headers[names.RECIPIENT_HEADER] for m in arrived] == [mover.organ_id]


async def test_a_closed_code_reaches_its_successor_and_cannot_send(world: World, settings) -> None:
    platform = await world.system(system_id())
    closed, successor = [await world.agency(random_organ_id(), host=platform) for _ in range(2)]
    sender = await world.agency(random_organ_id())
    await directory.close(world.session.db, closed.organ_id, successor.organ_id, dt.date.today())
    async with running_hub(settings):
        sent = await world.send(sender, world.document(sender, [closed]))
        receipt = (await world.receipts(sender, [sent]))[sent]
        assert receipt.accepted, receipt.detail
        assert closed.organ_id in receipt.detail and successor.organ_id in receipt.detail
        arrived = [m for m in await world.drain(successor, wait=1.0) if m.type == "edoc"]
        assert len(arrived) == 1
        assert arrived[0].headers[names.RECIPIENT_HEADER] == successor.organ_id
        assert arrived[0].headers[names.ADDRESSED_TO_HEADER] == closed.organ_id
        refused = await world.send(closed, world.document(closed, [sender]))
        got = (await world.receipts(closed, [refused]))[refused]
        assert got.code == "SENDER_CLOSED" and successor.organ_id in got.detail
    # the sender's timeline shows the alias the package used
    seen = await timeline.timeline(
        world.session.db, receipt.document_id or "", timeline.Viewer(system=sender.organ_id)
    )
    assert seen is not None
    delivered = [e for e in seen["documents"][0]["events"] if e["event"] == "delivered"]
    assert [(e["to"], e.get("addressed_to")) for e in delivered] == [
        (successor.organ_id, closed.organ_id)
    ]


async def test_a_suspended_system_is_as_if_each_agency_were(world: World, settings) -> None:
    platform = await world.system(system_id())
    hosted = await world.agency(random_organ_id(), host=platform)
    other = await world.agency(random_organ_id())
    await systems.set_state(world.session.db, platform.system_id, "suspended")
    async with running_hub(settings):
        sent = await world.send(hosted, world.document(hosted, [other]))
        assert (await world.receipts(hosted, [sent]))[sent].code == "SENDER_SUSPENDED"
        to = await world.send(other, world.document(other, [hosted]))
        assert (await world.receipts(other, [to]))[to].code == "RECIPIENT_SUSPENDED"


async def test_system_a_can_neither_read_b_nor_publish_as_b(world: World, settings) -> None:
    """Least privilege per system: its own two inboxes, lienthong.submit as itself, nothing
    else — whatever agencies either hosts."""
    a, b = await world.system(system_id()), await world.system(system_id())
    await world.agency(random_organ_id(), host=b)
    url = f"amqp://{a.amqp_user}:{a.amqp_password}@127.0.0.1:5672/{settings.amqp.vhost}"
    connection = await aio_pika.connect(url)
    try:
        await assert_confined(
            connection, own=a.system_id, other=b.system_id, other_user=b.amqp_user
        )
    finally:
        await connection.close()


async def test_system_ids_are_checked(world: World) -> None:
    for bad in ("", "has space", "x" * 65, "vxp.saas.urgent"):
        with pytest.raises(RegistryError):
            systems.check_system_id(bad)
    made = await world.system(system_id())
    with pytest.raises(RegistryError, match="already registered"):
        await world.system(made.system_id)
