"""Status lifecycle: unit tests of the transition table, and a document's life end to end."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
from dataclasses import replace

import httpx
import pytest

from adapters.sdk import ReceiverChange, StatusSpec, build_status
from hub.check.signing import sign_package
from hub.record import lifecycle
from hub.registry import operators
from hub.route.overdue import WorkingTime
from tests.conftest import random_organ_id
from tests.harness import World, running_hub

PROCESSING = ["01", "02", "03", "04", "05", "06"]
LEGAL = {
    (None, "01"),
    (None, "02"),
    (None, "03"),
    (None, "04"),
    (None, "05"),
    (None, "06"),
    ("01", "02"),
    ("01", "03"),
    ("01", "04"),
    ("01", "05"),
    ("01", "06"),
    ("03", "04"),
    ("03", "05"),
    ("03", "06"),
    ("04", "05"),
    ("04", "06"),
    ("05", "06"),
}


@pytest.mark.parametrize(
    ("current", "code"), list(itertools.product([None, *PROCESSING], PROCESSING))
)
def test_every_edge_of_the_table(current: str | None, code: str) -> None:
    verdict = lifecycle.processing_step(current, code)
    if code == current:
        assert verdict.legal and verdict.repeat
    else:
        assert verdict.legal == ((current, code) in LEGAL), (current, code, verdict.reason)
        assert verdict.legal or verdict.reason


def http_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_document_through_its_whole_life(world: World, settings) -> None:
    sender = await world.agency(random_organ_id())
    completes, refuses, silent = [await world.agency(random_organ_id()) for _ in range(3)]
    stranger = await world.agency(random_organ_id())
    operator = await operators.add(world.session.db, f"op-{random_organ_id()}", "viewer")
    # a shortened delay, and every hour a working hour, so the test does not depend on the clock
    policy = WorkingTime(
        delay=dt.timedelta(seconds=2),
        start=dt.time(0, 0),
        end=dt.time(23, 59, 59),
        days=frozenset(range(1, 8)),
    )
    hub_settings = replace(settings, working_time=policy)
    original = world.document(sender, [completes, refuses, silent], subject="Công văn gốc")
    document_id = world.document_spec(sender, []).document_id  # replaced below

    async def status(agency, code: str, about: str | None = None) -> tuple[str, str | None, str]:
        body = world.status(agency, sender.organ_id, about or document_id, code)
        message_id = await world.send(agency, body, kind="status")
        got = (await world.receipts(agency, [message_id]))[message_id]
        return got.outcome, got.code, got.detail

    async with running_hub(hub_settings, http=True) as base:
        first = await world.send(sender, original)
        accepted = (await world.receipts(sender, [first]))[first]
        assert accepted.outcome == "accepted"
        document_id = accepted.document_id or ""
        # the recipients answer differently
        for code in ("01", "03", "04", "05", "06"):
            assert (await status(completes, code))[0] == "accepted", code
        assert (await status(refuses, "01"))[0] == "accepted"
        # a refusal without its reason is refused
        bare = sign_package(
            build_status(
                StatusSpec(
                    sender=refuses.org,
                    document_sender=sender.organ_id,
                    document_id=document_id,
                    status_code="02",
                )
            ),
            refuses.key,
            refuses.cert,
        )
        sent = await world.send(refuses, bare, kind="status")
        got = (await world.receipts(refuses, [sent]))[sent]
        assert got.code == "STATUS_INVALID" and "reason" in got.detail
        assert (await status(refuses, "02"))[0] == "accepted"
        # illegal or misdirected statuses
        outcome, code, detail = await status(completes, "05")
        assert (outcome, code) == ("rejected", "STATUS_INVALID")
        assert document_id in detail and "06" in detail and "05" in detail
        assert (await status(refuses, "03"))[1] == "STATUS_INVALID"
        assert (await status(stranger, "01"))[1] == "STATUS_INVALID"
        assert (await status(silent, "15"))[1] == "STATUS_INVALID"  # nothing pending
        assert (await status(completes, "01", about="no-such-document"))[1] == "STATUS_INVALID"
        # the same status again is idempotent: accepted, not forwarded again
        outcome, _, detail = await status(completes, "06")
        assert outcome == "accepted" and "already recorded" in detail

        # the silent one turns overdue under the shortened delay
        async with httpx.AsyncClient(base_url=base) as client:
            listed: list[dict] = []
            for _ in range(40):
                response = await client.get(
                    "/api/v1/documents",
                    params={"overdue": "true"},
                    headers=http_headers(operator.token),
                )
                assert response.status_code == 200
                listed = response.json()["overdue"]
                if listed:
                    break
                await asyncio.sleep(0.25)
            assert [(o["document_id"], o["recipient"]) for o in listed] == [
                (document_id, silent.organ_id)
            ]
            own = await client.get(
                "/api/v1/documents",
                params={"overdue": "true"},
                headers=http_headers(sender.credentials.http_token),
            )
            assert [o["recipient"] for o in own.json()["overdue"]] == [silent.organ_id]
            theirs = await client.get(
                "/api/v1/documents",
                params={"overdue": "true"},
                headers=http_headers(stranger.credentials.http_token),
            )
            assert theirs.json()["overdue"] == []

        # an update, then a revocation answered 15 by one and 16 by another
        update = world.document(
            sender,
            [completes, refuses, silent],
            business_type=2,
            referenced_document_id=document_id,
            receiver_changes=[ReceiverChange(organ_id=stranger.organ_id, added=True)],
            document_id=f"{document_id}-v2",
        )
        update_id = await world.send(sender, update)
        assert (await world.receipts(sender, [update_id]))[update_id].outcome == "accepted"
        assert (await status(completes, "15"))[0] == "accepted"
        revoke = world.document(
            sender, [completes, silent], business_type=1, document_id=document_id
        )
        revoke_id = await world.send(sender, revoke)
        assert (await world.receipts(sender, [revoke_id]))[revoke_id].outcome == "accepted"
        assert (await status(completes, "15"))[0] == "accepted"
        assert (await status(silent, "16"))[0] == "accepted"
        assert (await status(silent, "16"))[2].endswith("not forwarded again")

        # the sender's inbox holds every status, in order, per recipient
        statuses = [m for m in world.kept.get(sender.organ_id, []) if m.type == "status"]
        statuses += [m for m in await world.drain(sender, wait=1.0) if m.type == "status"]
        by_author: dict[str, list[str]] = {}
        for message in statuses:
            text = message.body.decode()
            author = text.split("<OrganId>", 1)[1].split("<", 1)[0]
            code = text.split("<StatusCode>", 1)[1].split("<", 1)[0]
            by_author.setdefault(author, []).append(code)
            assert message.headers["x-document-id"] == document_id
        assert by_author == {
            completes.organ_id: ["01", "03", "04", "05", "06", "15", "15"],
            refuses.organ_id: ["01", "02"],
            silent.organ_id: ["16"],
        }

        # the timeline shows it all — to the sender, the recipients and operators only
        async with httpx.AsyncClient(base_url=base) as client:
            path = (
                "/api/v1/documents/"
                + httpx.URL("", params={}).copy_with(path=document_id).raw_path.decode()
            )
            assert (await client.get(path)).status_code == 401
            seen = {}
            for who, token in (
                ("sender", sender.credentials.http_token),
                ("recipient", refuses.credentials.http_token),
                ("operator", operator.token),
            ):
                response = await client.get(path, headers=http_headers(token))
                assert response.status_code == 200, (who, response.text)
                seen[who] = response.json()
            outsider = await world.agency(random_organ_id())
            response = await client.get(path, headers=http_headers(outsider.credentials.http_token))
            assert response.status_code == 404
            assert response.headers["content-type"].startswith("application/problem+json")
            unknown = await client.get(
                "/api/v1/documents/nothing-here", headers=http_headers(operator.token)
            )
            assert unknown.status_code == 404

    # everyone sees the same document; a rejected submission only its submitter and operators
    # (what a refused package says of itself is a claim: review finding 3 of issue 13)
    def without_rejections_of_others(view: dict, system: str) -> dict:
        copy = json.loads(json.dumps(view))
        for doc in copy["documents"]:
            doc["events"] = [
                e for e in doc["events"] if e["event"] != "rejected" or e["by"] == system
            ]
        return copy

    operator_view = seen["operator"]
    for who, agency in (("sender", sender), ("recipient", refuses)):
        assert seen[who] == without_rejections_of_others(operator_view, agency.organ_id), who
    assert [e for e in seen["recipient"]["documents"][0]["events"] if e["event"] == "rejected"]
    assert not [e for e in seen["sender"]["documents"][0]["events"] if e["event"] == "rejected"]
    document = seen["operator"]["documents"][0]
    assert document["state"] == "revoked"
    assert [v["relation"] for v in document["versions"]] == ["original", "update", "revoke"]
    recipients = {r["organ_id"]: r for r in document["recipients"]}
    assert recipients[completes.organ_id]["status"] == "06"
    assert recipients[completes.organ_id]["statuses"] == ["01", "03", "04", "05", "06", "15", "15"]
    assert recipients[refuses.organ_id]["status"] == "02"
    assert recipients[silent.organ_id]["statuses"] == ["16"]
    assert recipients[stranger.organ_id]["current"] is True  # added by the update
    events = [e["event"] for e in document["events"]]
    assert events.count("overdue") == 1
    assert {"accepted", "rejected", "delivered", "status"} <= set(events)
    rejected = [e for e in document["events"] if e["event"] == "rejected"]
    assert {e.get("code") for e in rejected} == {"STATUS_INVALID"}
    times = [e["at"] for e in document["events"]]
    assert times == sorted(times)


async def test_take_back_goes_to_every_recipient_and_waits_for_answers(
    world: World, settings
) -> None:
    sender = await world.agency(random_organ_id())
    first, second = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    async with running_hub(settings):
        message_id = await world.send(sender, world.document(sender, [first, second]))
        document_id = (await world.receipts(sender, [message_id]))[message_id].document_id or ""
        take_back = world.status(sender, sender.organ_id, document_id, "13")
        sent = await world.send(sender, take_back, kind="status")
        assert (await world.receipts(sender, [sent]))[sent].outcome == "accepted"
        for agency in (first, second):
            messages = await world.drain(agency, wait=1.0)
            assert [m.type for m in messages] == ["edoc", "status"]
            assert messages[1].body == take_back
        answers = {}
        for agency, code in ((first, "15"), (second, "16")):
            body = world.status(agency, sender.organ_id, document_id, code)
            answers[code] = await world.send(agency, body, kind="status")
            got = await world.receipts(agency, [answers[code]])
            assert got[answers[code]].outcome == "accepted"
        # only the sender may take back
        forged = world.status(first, sender.organ_id, document_id, "13")
        refused = await world.send(first, forged, kind="status")
        assert (await world.receipts(first, [refused]))[refused].code == "STATUS_INVALID"
