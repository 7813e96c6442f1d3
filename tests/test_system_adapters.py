"""The adapters for a system hosting many agencies: the Python SDK, the HTTP gateway inbox and
the folder bridge each say — and can filter by — which hosted agency a message is for."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from adapters.bridge import BridgeConfig, FolderBridge
from adapters.sdk.config import EndpointConfig
from adapters.sdk.endpoint import Endpoint
from adapters.sdk.items import Document, Status
from hub import home
from hub.registry import systems
from tests.conftest import random_organ_id
from tests.harness import Agency, World, running_hub


def system_config(
    world: World, platform: systems.SystemCredentials, agencies: list[Agency], tmp_path: Path
) -> EndpointConfig:
    first = agencies[0]
    assert first.credentials.key_path and first.credentials.cert_path
    return EndpointConfig(
        organ_id=first.organ_id,
        system_id=platform.system_id,
        amqp_url=(
            f"amqp://{platform.amqp_user}:{platform.amqp_password}@127.0.0.1:5672/"
            f"{world.settings.amqp.vhost}"
        ),
        key_path=first.credentials.key_path,
        cert_path=first.credentials.cert_path,
        agency_keys={
            a.organ_id: (a.credentials.key_path, a.credentials.cert_path)  # type: ignore[misc]
            for a in agencies[1:]
        },
        state_dir=tmp_path / "sdk",
        trusted_ca_paths=(home.load_dev_ca(world.settings).cert_path,),
    )


async def test_the_sdk_presents_and_filters_by_hosted_agency(
    world: World, settings, tmp_path
) -> None:
    platform = await world.system(f"vxp.sdk.{uuid.uuid4().hex[:6]}")
    hosted = [await world.agency(random_organ_id(), host=platform) for _ in range(3)]
    ministry = await world.agency(random_organ_id())
    async with running_hub(settings):
        message_id = await world.send(ministry, world.document(ministry, hosted))
        assert (await world.receipts(ministry, [message_id]))[message_id].accepted
        async with Endpoint.open(system_config(world, platform, hosted, tmp_path)) as endpoint:
            # only the third agency's first, the others held back for later
            only = [i async for i in endpoint.inbox(idle_timeout=2, recipient=hosted[2].organ_id)]
            assert [(type(i), i.recipient) for i in only] == [(Document, hosted[2].organ_id)]
            rest = [i async for i in endpoint.inbox(idle_timeout=2)]
            documents = [i for i in rest if isinstance(i, Document)]
            assert sorted(d.recipient or "" for d in documents) == sorted(
                a.organ_id for a in hosted[:2]
            )
            assert all(d.verified for d in [*only, *documents])
            # each answered 01 as itself, signed with its own key (agency_keys)
        statuses = [m for m in await world.drain(ministry, wait=1.5) if m.type == "status"]
        authors = sorted(Status.parse(m.message_id or "", m.body).author for m in statuses)
        assert authors == sorted(a.organ_id for a in hosted)


async def test_the_gateway_inbox_and_the_bridge_say_whom_each_message_is_for(
    world: World, settings, tmp_path
) -> None:
    platform = await world.system(f"vxp.gw.{uuid.uuid4().hex[:6]}")
    hosted = [await world.agency(random_organ_id(), host=platform) for _ in range(2)]
    ministry = await world.agency(random_organ_id())
    async with running_hub(settings, http=True) as base:
        message_id = await world.send(ministry, world.document(ministry, hosted))
        assert (await world.receipts(ministry, [message_id]))[message_id].accepted
        headers = {"Authorization": f"Bearer {platform.http_token}"}
        async with httpx.AsyncClient(base_url=base, headers=headers) as http:
            for _ in range(20):
                listed = (await http.get("/api/v1/inbox")).json()
                if listed["total"] == 2:
                    break
            assert sorted(m["recipient"] for m in listed["messages"]) == sorted(
                a.organ_id for a in hosted
            )
            mine = (
                await http.get("/api/v1/inbox", params={"recipient": hosted[0].organ_id})
            ).json()
            assert [m["recipient"] for m in mine["messages"]] == [hosted[0].organ_id]
            one = await http.get(mine["messages"][0]["href"])
            assert one.headers["x-recipient"] == hosted[0].organ_id
            # the directory, for the system's address book
            found = (await http.get("/api/v1/directory", params={"q": hosted[1].organ_id})).json()
            assert [a["system_id"] for a in found["agencies"]] == [platform.system_id]

        # the folder bridge of the platform files what arrives per hosted agency
        again = await world.send(ministry, world.document(ministry, hosted))
        assert (await world.receipts(ministry, [again]))[again].accepted
        bridge = FolderBridge(
            BridgeConfig(endpoint=system_config(world, platform, hosted, tmp_path), root=tmp_path)
        )
        await bridge.run(once=True)
        for agency in hosted:
            files = list((tmp_path / "inbox" / agency.organ_id).glob("*.edoc.xml"))
            assert len(files) == 1, agency.organ_id
