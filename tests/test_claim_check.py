"""Claim checks (contract, version 2, "Large packages"): a package larger than
LIENTHONG_INLINE_MAX_BYTES reaches the inbox as an empty message with x-body-url,
x-body-sha256 and x-body-size, its bytes fetched with the recipient system's token — and the
SDK, the HTTP gateway inbox, the folder bridge and the national-SDK endpoint hand over the
package as if it had come inline. The hub runs with a small limit, so ordinary test packages
are "large"; the rule is the same for 8 MiB."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from adapters.sdk.claims import BodyUnavailable
from adapters.sdk.endpoint import Endpoint
from adapters.sdk.items import Document
from adapters.sdk.uploads import UploadFailed
from hub.broker import names
from hub.broker.claims import Claim, ClaimChecks, ClaimError, Tally
from hub.config import Settings
from hub.registry import operators
from tests.conftest import random_organ_id
from tests.harness import World, running_hub
from tests.national_sdk import sdk_headers
from tests.test_bridge import kill, save_credentials, start_bridge, wait_for
from tests.test_sdk import config_for

LIMIT = 2048


def claiming(settings: Settings) -> Settings:
    return replace(settings, inline_max_bytes=LIMIT)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- the rule, without servers --------------------------------------------------------------


def test_only_packages_above_the_limit_travel_as_a_claim() -> None:
    checks = ClaimChecks(inline_max=10, base_url="https://hub.example.gov.vn")
    ten, eleven = hashlib.sha256(b"x" * 10).digest(), hashlib.sha256(b"x" * 11).digest()
    assert checks.claim_for(kind="edoc", message_id="m", size=10, digest=ten) is None
    assert checks.claim_for(kind="receipt", message_id="m", size=11, digest=eleven) is None
    claim = checks.claim_for(kind="status", message_id="lt-7-status-A/B", size=11, digest=eleven)
    assert claim == Claim(
        url="https://hub.example.gov.vn/api/v1/bodies/lt-7-status-A%2FB",
        sha256=hashlib.sha256(b"x" * 11).hexdigest(),
        size=11,
    )
    assert Claim.of(claim.headers()) == claim
    assert Claim.of({names.DOCUMENT_HEADER: "d"}) is None


@pytest.mark.parametrize(
    "headers",
    [
        {"x-body-url": "https://h/x", "x-body-sha256": "zz", "x-body-size": 3},
        {"x-body-url": "https://h/x", "x-body-sha256": "a" * 64, "x-body-size": "many"},
        {"x-body-url": "file:///etc/passwd", "x-body-sha256": "a" * 64, "x-body-size": 3},
        {"x-body-url": "https://h/x", "x-body-size": 3},
    ],
)
def test_a_claim_with_bad_headers_is_refused(headers: dict[str, object]) -> None:
    with pytest.raises(ClaimError):
        Claim.of(headers)


def test_fetched_bytes_must_be_the_claimed_ones() -> None:
    claim = Claim(url="https://h/x", sha256=hashlib.sha256(b"abc").hexdigest(), size=3)
    right = Tally(claim)
    right.add(b"ab")
    right.add(b"c")
    right.check()
    short = Tally(claim)
    short.add(b"ab")
    with pytest.raises(ClaimError, match="2 bytes"):
        short.check()
    with pytest.raises(ClaimError, match="more than"):
        Tally(claim).add(b"abcd")
    other = Tally(claim)
    other.add(b"abd")
    with pytest.raises(ClaimError, match="SHA-256"):
        other.check()


# --- against the real hub, RabbitMQ and PostgreSQL -----------------------------------------


async def test_a_large_package_arrives_as_a_claim_and_is_fetched_byte_for_byte(
    world: World, settings: Settings
) -> None:
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    stranger = await world.agency(random_organ_id())
    admin = await operators.add(world.session.db, f"admin-{uuid.uuid4().hex[:6]}", "admin")
    body = world.document(sender, [recipient])
    assert len(body) > LIMIT
    async with (
        running_hub(claiming(settings), http=True) as base,
        httpx.AsyncClient(timeout=30) as client,
    ):
        sent = await world.send(sender, body)
        receipt = (await world.receipts(sender, [sent]))[sent]
        assert receipt.outcome == "accepted"
        assert len(await world.drain(sender, wait=0.2)) == 0  # receipts stay inline
        [message] = await world.drain(recipient, wait=1.0)
        assert message.type == "edoc" and message.body == b""
        headers = message.headers or {}
        assert headers[names.DOCUMENT_HEADER] == receipt.document_id
        assert headers["x-body-sha256"] == hashlib.sha256(body).hexdigest()
        assert headers["x-body-size"] == len(body)
        url = str(headers["x-body-url"])
        assert url == f"{base}/api/v1/bodies/{message.message_id}"

        fetched = await client.get(url, headers=auth(recipient.credentials.http_token))
        assert fetched.status_code == 200, fetched.text
        assert fetched.content == body
        assert fetched.headers["content-length"] == str(len(body))
        by_operator = await client.get(url, headers=auth(admin.token))
        assert by_operator.content == body
        # another system, the sender's own, no token: as for an unknown id
        for token in (stranger.credentials.http_token, sender.credentials.http_token):
            assert (await client.get(url, headers=auth(token))).status_code == 404
        assert (await client.get(url)).status_code == 401
        unknown = await client.get(url + "x", headers=auth(recipient.credentials.http_token))
        assert unknown.status_code == 404


async def test_the_sdk_hands_over_a_claimed_package_as_if_inline(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    body = world.document(sender, [recipient])
    async with running_hub(claiming(settings), http=True) as base:
        await world.send(sender, body)
        async with Endpoint.open(config_for(world, recipient, tmp_path)) as into:
            items = [item async for item in into.inbox(idle_timeout=3)]
        documents = [i for i in items if isinstance(i, Document)]
        assert [d.body for d in documents] == [body]
        assert documents[0].verified, documents[0].problem
        assert base


async def test_without_a_token_the_sdk_says_what_is_missing_and_keeps_the_message(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    body = world.document(sender, [recipient])
    async with running_hub(claiming(settings), http=True):
        await world.send(sender, body)
        config = replace(config_for(world, recipient, tmp_path), http_token=None)
        async with Endpoint.open(config) as into:
            with pytest.raises(BodyUnavailable, match="http_token"):
                async for _ in into.inbox(idle_timeout=3):
                    pass
        # handed back to the broker: with the token, it comes
        async with Endpoint.open(config_for(world, recipient, tmp_path)) as into:
            items = [item async for item in into.inbox(idle_timeout=3)]
        assert [i.body for i in items if isinstance(i, Document)] == [body]


async def test_the_gateway_inbox_serves_the_whole_package(world: World, settings: Settings) -> None:
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    body = world.document(sender, [recipient])
    async with (
        running_hub(claiming(settings), http=True) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):
        await world.send(sender, body)
        token = auth(recipient.credentials.http_token)
        listed: dict[str, object] = {"messages": []}
        for _ in range(50):
            listed = (await client.get("/api/v1/inbox", headers=token)).json()
            if listed["messages"]:
                break
        [entry] = listed["messages"]  # type: ignore[misc]
        assert entry["size"] == len(body)
        fetched = await client.get(entry["href"], headers=token)
        assert fetched.status_code == 200 and fetched.content == body
        assert fetched.headers["X-Lienthong-Type"] == "edoc"


async def test_a_body_removed_by_retention_is_gone_not_missing(
    world: World, settings: Settings
) -> None:
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    body = world.document(sender, [recipient])
    async with (
        running_hub(claiming(settings), http=True),
        httpx.AsyncClient(timeout=30) as client,
    ):
        await world.send(sender, body)
        [message] = await world.drain(recipient, wait=1.0)
        await world.session.db.execute(
            "UPDATE package SET body = NULL, body_dropped_at = now() WHERE digest = $1",
            hashlib.sha256(body).digest(),
        )
        gone = await client.get(
            str((message.headers or {})["x-body-url"]),
            headers=auth(recipient.credentials.http_token),
        )
        assert gone.status_code == 410
        assert "retention" in json.loads(gone.text)["detail"]


async def test_the_folder_bridge_writes_the_whole_package(
    world: World, settings: Settings, env: dict[str, str], tmp_path: Path
) -> None:
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    save_credentials(world, recipient)
    body = world.document(sender, [recipient])
    folder = tmp_path / "h"
    async with running_hub(claiming(settings), http=True):
        await world.send(sender, body)
        receiving = start_bridge(env, recipient.organ_id, folder, tmp_path / "h.log")
        try:
            await wait_for(lambda: len(list((folder / "inbox").glob("*.edoc.xml"))) == 1)
        finally:
            kill(receiving)
    [written] = (folder / "inbox").glob("*.edoc.xml")
    assert written.read_bytes() == body


async def test_the_national_sdk_endpoint_serves_the_whole_package(
    world: World, settings: Settings
) -> None:
    system = await world.system(f"vxp.c.{uuid.uuid4().hex[:6]}")
    recipient = await world.agency(random_organ_id(), host=system)
    sender = await world.agency(random_organ_id())
    body = world.document(sender, [recipient])

    def signed(values: dict[str, str]) -> dict[str, str]:
        return sdk_headers(system_id=system.system_id, secret=system.vxp_secret, values=values)

    async with (
        running_hub(claiming(settings), http=True) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):
        await world.send(sender, body)
        listed: list[dict[str, object]] = []
        for _ in range(50):
            answer = await client.post(
                "/vxp/getReceivedEdocList",
                headers=signed({"servicetype": "eDoc", "messagetype": "edoc"}),
            )
            listed = answer.json()["data"]
            if listed:
                break
        [entry] = listed
        doc_id = str(entry["docId"])
        got = (await client.post("/vxp/getEdoc", headers=signed({"docId": doc_id}))).json()
        assert got["status"] == "OK", got
        assert base64.b64decode(got["data"]) == body
        downloaded = await client.post("/vxp/downloadEdoc", headers=signed({"docId": doc_id}))
        assert downloaded.content == body


async def test_the_sdk_uploads_a_large_package_over_http_and_the_recipient_gets_it_whole(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    body = world.document(sender, [recipient])
    async with running_hub(claiming(settings), http=True) as base:
        config = replace(config_for(world, sender, tmp_path), hub_url=base, upload_over_bytes=LIMIT)
        async with Endpoint.open(config) as out:
            receipt = await out.send(body, message_id="big-1")
            assert receipt.outcome == "accepted", receipt.detail
            # no token: said, and nothing submitted
            tokenless = replace(config, http_token=None)
            async with Endpoint.open(tokenless) as other:
                with pytest.raises(UploadFailed, match="http_token"):
                    await other.submit(body, message_id="big-2")
        async with Endpoint.open(config_for(world, recipient, tmp_path)) as into:
            items = [item async for item in into.inbox(idle_timeout=3)]
    assert [i.body for i in items if isinstance(i, Document)] == [body]
    channels = await world.session.db.fetch(
        "SELECT message_id, channel FROM package WHERE submitter = $1", sender.system
    )
    assert [(r["message_id"], r["channel"]) for r in channels] == [("big-1", "http")]


async def test_a_large_body_reaches_postgresql_by_copy_a_slice_at_a_time(
    world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bodies over hub.record.store.STAGE_MIN are copied into a staging table in slices and
    moved into their rows: the bytes kept, served and delivered are the ones sent."""
    from hub.record import store

    monkeypatch.setattr(store, "STAGE_MIN", 1024)
    monkeypatch.setattr(store, "SLICE", 1000)  # many slices, the last one short
    copied: list[int] = []
    copy_rows = store._copy_rows

    def counting(rows: list[tuple[int, bytes]]) -> object:
        copied.extend(len(body) for _, body in rows)
        return copy_rows(rows)

    monkeypatch.setattr(store, "_copy_rows", counting)
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    bodies = [world.document(sender, [recipient]) for _ in range(2)]
    assert all(len(body) > 3 * 1000 for body in bodies)
    async with (
        running_hub(claiming(settings), http=True) as base,
        httpx.AsyncClient(timeout=30) as client,
    ):
        sent = [await world.send(sender, body) for body in bodies]
        receipts = await world.receipts(sender, sent)
        assert all(r.outcome == "accepted" for r in receipts.values())
        fetched = []
        for message in await world.drain(recipient, wait=1.0):
            url = f"{base}/api/v1/bodies/{message.message_id}"
            answer = await client.get(url, headers=auth(recipient.credentials.http_token))
            assert answer.status_code == 200, answer.text
            fetched.append(answer.content)
    assert sorted(fetched) == sorted(bodies)
    assert sorted(copied) == sorted(len(body) for body in bodies)  # by COPY, not as parameters
    stored = await world.session.db.fetch(
        "SELECT body FROM package WHERE submitter = $1", sender.organ_id
    )
    assert sorted(bytes(r["body"]) for r in stored) == sorted(bodies)
