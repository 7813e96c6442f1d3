"""The Python SDK over AMQP, end to end against the real hub."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aio_pika
import pytest

from adapters.sdk import Attachment, DocumentSpec
from adapters.sdk.config import EndpointConfig
from adapters.sdk.endpoint import Endpoint, SendTimeout
from adapters.sdk.items import Document, Receipt, Status
from hub import home
from hub.broker import names
from tests.conftest import random_organ_id
from tests.harness import Agency, World, running_hub


def config_for(world: World, agency: Agency, tmp_path: Path, **options) -> EndpointConfig:
    saved = tmp_path / f"{agency.organ_id}.json"
    saved.write_text(json.dumps(agency.credentials.as_json()))
    ca_cert = home.load_dev_ca(world.settings).cert_path
    return EndpointConfig.from_credentials(
        saved,
        vhost=world.settings.amqp.vhost,
        state_dir=tmp_path / "sdk",
        trusted_ca_paths=(ca_cert,),
        **options,
    )


def spec(world: World, sender: Agency, recipients: list[Agency], **fields) -> DocumentSpec:
    return world.document_spec(sender, recipients, **fields)


async def test_send_receive_verify_and_arrive(world: World, settings, tmp_path) -> None:
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    async with running_hub(settings):
        async with (
            Endpoint.open(config_for(world, sender, tmp_path)) as out,
            Endpoint.open(config_for(world, recipient, tmp_path)) as into,
        ):
            document = spec(
                world,
                sender,
                [recipient],
                attachments=[Attachment(name="cv.pdf", content=b"%PDF-1.4 x")],
            )
            receipt = await out.send(document)
            assert receipt.accepted, receipt.detail
            items = [item async for item in into.inbox(idle_timeout=2)]
            assert len(items) == 1 and isinstance(items[0], Document)
            got = items[0]
            assert got.verified, got.problem
            assert got.sender == sender.organ_id and got.document_id == document.document_id
            # 01 was sent automatically when the document was handed over
            statuses = [i async for i in out.inbox(idle_timeout=2)]
            assert [(s.code, s.author) for s in statuses if isinstance(s, Status)] == [
                ("01", recipient.organ_id)
            ]
            answer = await into.report(got, "03", description="Đã tiếp nhận")
            assert answer.accepted, answer.detail
            later = [i async for i in out.inbox(idle_timeout=2)]
            assert [s.code for s in later if isinstance(s, Status)] == ["03"]


async def test_a_restarted_consumer_loses_nothing_and_hands_nothing_twice(
    world: World, settings, tmp_path
) -> None:
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    count = 30
    handled: list[str] = []
    async with running_hub(settings):
        async with Endpoint.open(config_for(world, sender, tmp_path)) as out:
            receipts = await asyncio.gather(
                *(out.send(spec(world, sender, [recipient], attachments=[])) for _ in range(count))
            )
            assert all(r.accepted for r in receipts)
        # first consumer: handles ten, then dies in the middle of the eleventh
        first = await Endpoint.connect(config_for(world, recipient, tmp_path, auto_arrived=False))
        with pytest.raises(RuntimeError):
            async for item in first.inbox(idle_timeout=5):
                assert isinstance(item, Document)
                if len(handled) == 10:
                    raise RuntimeError("the application crashed while handling this one")
                handled.append(item.message_id)
        await first.close()
        # the broker also hands a true duplicate of something already handled
        admin = await aio_pika.connect(settings.amqp.url)
        channel = await admin.channel(publisher_confirms=True)
        await channel.default_exchange.publish(
            aio_pika.Message(b"<duplicate/>", message_id=handled[0], type="edoc"),
            routing_key=names.inbox(recipient.organ_id),
        )
        await admin.close()
        second = await Endpoint.connect(config_for(world, recipient, tmp_path, auto_arrived=False))
        async for item in second.inbox(idle_timeout=3):
            assert isinstance(item, Document)
            handled.append(item.message_id)
        await second.close()
    assert len(handled) == count
    assert len(set(handled)) == count


async def test_send_times_out_without_a_hub(world: World, tmp_path) -> None:
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    async with Endpoint.open(config_for(world, sender, tmp_path)) as out:
        with pytest.raises(SendTimeout):
            await out.send(spec(world, sender, [recipient]), timeout=1)


async def test_receipts_nobody_waits_for_reach_the_inbox(world: World, settings, tmp_path) -> None:
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    async with running_hub(settings):
        async with Endpoint.open(config_for(world, sender, tmp_path)) as out:
            message_id = await out.submit(world.document(sender, [recipient]))
            items = [i async for i in out.inbox(idle_timeout=3)]
    assert [type(i) for i in items] == [Receipt]
    assert items[0].message_id == message_id and items[0].accepted


def test_credentials_name_any_broker_url_and_keys_can_be_given(tmp_path: Path) -> None:
    """from_credentials keeps a broker URL's scheme, port and vhost (AMQPS for agencies), and
    takes key_path/cert_path without a TypeError."""
    saved = tmp_path / "G22.json"
    saved.write_text(
        json.dumps(
            {
                "organ_id": "000.00.00.G22",
                "amqp_user": "000.00.00.G22",
                "amqp_password": "p/w:d",
                "key_path": "/old/key.pem",
                "cert_path": "/old/cert.pem",
            }
        )
    )
    tls = EndpointConfig.from_credentials(saved, broker="amqps://hub.example.gov.vn:5671/lt")
    assert tls.amqp_url == "amqps://000.00.00.G22:p%2Fw%3Ad@hub.example.gov.vn:5671/lt"
    plain = EndpointConfig.from_credentials(saved, host="10.0.0.5", port=5673, vhost="v")
    assert plain.amqp_url == "amqp://000.00.00.G22:p%2Fw%3Ad@10.0.0.5:5673/v"
    mine = EndpointConfig.from_credentials(saved, key_path=tmp_path / "key.pem")
    assert mine.key_path == tmp_path / "key.pem" and mine.cert_path == Path("/old/cert.pem")
    with pytest.raises(ValueError, match="amqp"):
        EndpointConfig.from_credentials(saved, broker="http://hub.example.gov.vn/")
