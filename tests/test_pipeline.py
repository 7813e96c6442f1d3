"""The document pipeline end to end: the real hub, RabbitMQ and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt

import aio_pika
import asyncpg
import pytest
from signxml.exceptions import InvalidSignature

from adapters.sdk import ReceiverChange
from hub import home
from hub.broker import names
from hub.record import receipt
from hub.registry import issuing, pki, registry
from tests.conftest import random_organ_id
from tests.harness import World, running_hub, verify_receipt


async def test_a_document_reaches_every_recipient_byte_for_byte(world: World, settings) -> None:
    sender = await world.agency(random_organ_id())
    first, second = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    body = world.document(sender, [first, second])
    async with running_hub(settings):
        message_id = await world.send(sender, body)
        receipts = await world.receipts(sender, [message_id])
        delivered = {a.organ_id: await world.drain(a, wait=1.0) for a in (first, second)}
    got = receipts[message_id]
    assert got.outcome == "accepted", got.detail
    assert got.code is None
    hub_cert = home.load_hub_identity(settings).cert
    verify_receipt(got.xml, hub_cert)
    receipt.validate(got.xml)
    for organ, messages in delivered.items():
        assert len(messages) == 1, organ
        message = messages[0]
        assert message.body == body
        assert message.type == "edoc"
        assert message.headers[names.DOCUMENT_HEADER] == got.document_id
        assert message.message_id and message.message_id.startswith("lt-")
    # the receipt is in the sender's ordinary inbox, not the urgent one
    assert await world.drain(sender, wait=0.3) == []


async def test_resubmission_is_idempotent(world: World, settings) -> None:
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    body = world.document(sender, [recipient])
    async with running_hub(settings):
        message_id = await world.send(sender, body)
        first = (await world.receipts(sender, [message_id]))[message_id]
        await world.send(sender, body, message_id=message_id)
        second = (await world.receipts(sender, [message_id]))[message_id]
        delivered = await world.drain(recipient, wait=1.0)
    assert first.outcome == second.outcome == "accepted"
    assert first.xml == second.xml  # the same receipt, sent again
    assert [m.body for m in delivered] == [body]  # no second delivery


async def test_the_same_document_again_under_a_new_message_id_is_not_delivered_twice(
    world: World, settings
) -> None:
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    body = world.document(sender, [recipient])
    async with running_hub(settings):
        ids = [await world.send(sender, body), await world.send(sender, body)]
        got = await world.receipts(sender, ids)
        delivered = await world.drain(recipient, wait=1.0)
    assert [got[i].outcome for i in ids] == ["accepted", "accepted"]
    assert "already accepted" in got[ids[1]].detail
    assert len(delivered) == 1


async def test_a_submission_without_user_id_is_dead_lettered_with_the_reason(
    world: World, settings
) -> None:
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    async with running_hub(settings):
        await world.send(sender, world.document(sender, [recipient]), user_id=False)
        dead = None
        for _ in range(50):
            queue = await world.session.channel.get_queue(names.DEAD_QUEUE, ensure=False)
            dead = await queue.get(fail=False)
            if dead is not None:
                break
            await asyncio.sleep(0.1)
        assert dead is not None
        await dead.ack()
        assert "no user_id" in dead.headers[names.REASON_HEADER]
        assert await world.drain(sender, wait=0.5) == []
        assert await world.drain(recipient, wait=0.1) == []


async def test_records_link_revoke_update_and_replace_to_the_document(
    world: World, settings
) -> None:
    sender = await world.agency(random_organ_id())
    r1, r2, r3 = [await world.agency(random_organ_id()) for _ in range(3)]
    spec_id = f"{sender.organ_id},2026/11/23,77/VPCP"
    original = world.document(sender, [r1, r2], document_id=spec_id)
    revoke_unknown = world.document(
        sender, [r1], document_id=f"{sender.organ_id},never", business_type=1
    )
    update = world.document(
        sender,
        [r1, r2, r3],
        document_id=f"{sender.organ_id},2026/11/23,78/VPCP",
        business_type=2,
        referenced_document_id=spec_id,
        receiver_changes=[
            ReceiverChange(organ_id=r2.organ_id, added=False),
            ReceiverChange(organ_id=r3.organ_id, added=True),
        ],
    )
    revoke_stranger = world.document(sender, [r2], document_id=spec_id, business_type=1)
    revoke = world.document(sender, [r1, r3], document_id=spec_id, business_type=1)
    async with running_hub(settings):
        ids = {}
        got = {}
        for name, body in (
            ("original", original),
            ("revoke_unknown", revoke_unknown),
            ("update", update),
            ("revoke_stranger", revoke_stranger),
            ("revoke", revoke),
        ):
            ids[name] = await world.send(sender, body)
            got.update(await world.receipts(sender, [ids[name]]))  # one after the other
        inboxes = {a.organ_id: await world.drain(a, wait=1.0) for a in (r1, r2, r3)}
    outcome = {name: (got[i].outcome, got[i].code) for name, i in ids.items()}
    assert outcome == {
        "original": ("accepted", None),
        "revoke_unknown": ("rejected", "REFERENCE_UNKNOWN"),
        "update": ("accepted", None),
        "revoke_stranger": ("rejected", "REFERENCE_UNKNOWN"),  # r2 was removed by the update
        "revoke": ("accepted", None),
    }, {n: got[i].detail for n, i in ids.items()}
    assert [m.body for m in inboxes[r1.organ_id]] == [original, update, revoke]
    assert [m.body for m in inboxes[r2.organ_id]] == [original, update]  # told of its removal
    assert [m.body for m in inboxes[r3.organ_id]] == [update, revoke]
    db = await asyncpg.connect(settings.database_url)
    try:
        state = await db.fetchval("SELECT state FROM document WHERE document_id = $1", spec_id)
        relations = await db.fetch(
            "SELECT v.relation FROM document_version v JOIN document d ON d.id = v.document_ref "
            "WHERE d.document_id = $1 ORDER BY v.recorded_at, v.package_id",
            spec_id,
        )
    finally:
        await db.close()
    assert state == "revoked"
    assert [r["relation"] for r in relations] == ["original", "update", "revoke"]


def test_hub_certificate_is_the_one_that_signs(settings) -> None:
    """What the hub signs with verifies against the certificate it serves, which chains to
    the development CA; a receipt signed with another key does not."""
    made = home.init_dev_ca(settings)
    identity = home.load_hub_identity(settings)
    facts = receipt.ReceiptFacts(
        message_id="m-1",
        submitter="000.00.00.G22",
        kind="edoc",
        document_id=None,
        code=None,
        detail="accepted",
        digest=bytes(32),
        timestamp=dt.datetime.now(dt.UTC),
    )
    signed = receipt.sign(facts, receipt.HubSigner(key=identity.key, cert=identity.cert))
    verify_receipt(signed, made.hub.cert)
    pki.check_chain(made.hub.cert, trusted=[made.ca.cert])
    other_key, other_cert = issuing.make_ca("not the hub")
    forged = receipt.sign(facts, receipt.HubSigner(key=other_key, cert=other_cert))
    with pytest.raises(InvalidSignature):
        verify_receipt(forged, made.hub.cert)


async def test_a_message_the_hub_cannot_handle_is_dead_lettered_with_the_reason(
    world: World, settings
) -> None:
    """Never silently away: an internal message with a broken kind header cannot be processed."""
    async with running_hub(settings):
        admin = await aio_pika.connect(settings.amqp.url)
        channel = await admin.channel(publisher_confirms=True)
        await channel.default_exchange.publish(
            aio_pika.Message(
                b"<edXML/>",
                message_id="broken-1",
                headers={names.SUBMITTER_HEADER: "000.00.00.G22", names.KIND_HEADER: "nonsense"},
            ),
            routing_key=names.WORK_QUEUE,
        )
        await admin.close()
        dead = None
        queue = await world.session.channel.get_queue(names.DEAD_QUEUE, ensure=False)
        for _ in range(50):
            dead = await queue.get(fail=False)
            if dead is not None:
                break
            await asyncio.sleep(0.1)
        assert dead is not None and dead.message_id == "broken-1"
        await dead.ack()
        assert "hub error" in dead.headers[names.REASON_HEADER]
        # and the hub keeps serving
        sender, recipient = (
            await world.agency(random_organ_id()),
            await world.agency(random_organ_id()),
        )
        await asyncio.sleep(2.5)  # the registry snapshot picks the new agencies up
        message_id = await world.send(sender, world.document(sender, [recipient]))
        assert (await world.receipts(sender, [message_id]))[message_id].outcome == "accepted"


async def test_suspension_takes_effect_within_five_seconds_without_a_restart(
    world: World, settings
) -> None:
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    async with running_hub(settings):
        first = await world.send(sender, world.document(sender, [recipient]))
        assert (await world.receipts(sender, [first]))[first].outcome == "accepted"
        await registry.set_state(world.session.db, recipient.organ_id, "suspended")
        await asyncio.sleep(5)
        refused = await world.send(sender, world.document(sender, [recipient]))
        got = (await world.receipts(sender, [refused]))[refused]
        assert got.code == "RECIPIENT_SUSPENDED"
        # a suspended agency still receives what was delivered before, and receipts
        assert len(await world.drain(recipient, wait=0.5)) == 1
        await registry.set_state(world.session.db, sender.organ_id, "suspended")
        await registry.set_state(world.session.db, recipient.organ_id, "active")
        await asyncio.sleep(5)
        own = await world.send(sender, world.document(sender, [recipient]))
        assert (await world.receipts(sender, [own]))[own].code == "SENDER_SUSPENDED"
        newcomer = await world.agency(random_organ_id())
        await registry.set_state(world.session.db, sender.organ_id, "active")
        await asyncio.sleep(5)
        welcome = await world.send(sender, world.document(sender, [newcomer]))
        assert (await world.receipts(sender, [welcome]))[welcome].outcome == "accepted"
