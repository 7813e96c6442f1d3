"""The operators' API against the real stack: roles, search, CSV, queues, dead letters, suspend,
the admin-action record, and the metrics operators alert on."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid

import aio_pika
import httpx

from hub import home
from hub.broker import names
from hub.broker.stamp import Stamper
from hub.registry import operators
from tests.conftest import random_organ_id
from tests.harness import World, running_hub


async def dead_letter(world: World, body: bytes, submitter: str, reason: str) -> str:
    """Put a message into lienthong.dead as the hub does when processing fails."""
    message_id = f"dead-{uuid.uuid4().hex}"
    stamper = Stamper.for_hub(home.load_hub_identity(world.settings).key)
    connection = await aio_pika.connect(world.settings.amqp.url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await channel.default_exchange.publish(
            aio_pika.Message(
                body,
                message_id=message_id,
                headers={
                    **stamper.stamp(
                        message_id=message_id, submitter=submitter, kind="edoc", size=len(body)
                    ),
                    names.REASON_HEADER: reason,
                },
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            ),
            routing_key=names.DEAD_QUEUE,
        )
    return message_id


async def tokens(world: World) -> tuple[str, str]:
    viewer = await operators.add(world.session.db, f"viewer-{uuid.uuid4().hex[:6]}", "viewer")
    admin = await operators.add(world.session.db, f"admin-{uuid.uuid4().hex[:6]}", "admin")
    return viewer.token, admin.token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_operators_watch_search_requeue_and_suspend(world: World, settings) -> None:
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    viewer, admin = await tokens(world)
    async with running_hub(settings, http=True) as base, httpx.AsyncClient(base_url=base) as http:
        # roles: agencies and strangers see nothing, viewers read, admins act
        agency_token = sender.credentials.http_token
        assert (
            await http.get("/api/v1/ops/overview", headers=bearer(agency_token))
        ).status_code == 403
        assert (await http.get("/api/v1/ops/overview")).status_code == 401
        who = (await http.get("/api/v1/ops/whoami", headers=bearer(viewer))).json()
        assert who["role"] == "viewer"

        document_id = f"{sender.organ_id},2026/11/23,{uuid.uuid4().hex[:6]}/CV"
        sent = await world.send(
            sender, world.document(sender, [recipient], document_id=document_id)
        )
        refused = await world.send(sender, world.document(sender, ["000.00.00.X99"]))
        got = await world.receipts(sender, [sent, refused])
        assert got[sent].accepted and got[refused].code == "RECIPIENT_UNKNOWN"

        # RabbitMQ's management figures trail by a few seconds
        deadline = asyncio.get_running_loop().time() + 20
        while True:
            overview = (await http.get("/api/v1/ops/overview", headers=bearer(viewer))).json()
            waiting = {b["agency"]: b["waiting"] for b in overview["backlog"]}
            if waiting.get(recipient.organ_id) or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(1)
        assert waiting.get(recipient.organ_id) == 1, overview["backlog"]
        mine = next(b for b in overview["backlog"] if b["agency"] == recipient.organ_id)
        assert mine["unanswered"] == 1 and mine["oldest_unanswered_seconds"] >= 0
        assert sum(p["accepted"] for p in overview["throughput"]) >= 1
        assert {"code": "RECIPIENT_UNKNOWN", "count": 1} in overview["rejections_24h"]
        assert overview["latency"] and overview["latency"][-1]["p95_ms"] >= 0

        found = (
            await http.get(
                "/api/v1/ops/documents",
                params={"document_id": document_id, "recipient": recipient.organ_id},
                headers=bearer(viewer),
            )
        ).json()["documents"]
        assert [d["document_id"] for d in found] == [document_id]
        assert found[0]["recipients"] == [recipient.organ_id]
        nothing = await http.get(
            "/api/v1/ops/documents", params={"status": "06"}, headers=bearer(viewer)
        )
        assert nothing.json()["documents"] == []
        rejected = await http.get(
            "/api/v1/ops/documents",
            params={"code": "RECIPIENT_UNKNOWN", "sender": sender.organ_id},
            headers=bearer(viewer),
        )
        assert rejected.json()["documents"][0]["code"] == "RECIPIENT_UNKNOWN"
        exported = await http.get(
            "/api/v1/ops/documents",
            params={"sender": sender.organ_id, "format": "csv"},
            headers=bearer(viewer),
        )
        assert exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert rows[0]["document_id"] == document_id and rows[0]["recipients"] == recipient.organ_id

        queues = (await http.get("/api/v1/ops/queues", headers=bearer(viewer))).json()["queues"]
        inbox = next(q for q in queues if q["name"] == names.inbox(recipient.organ_id))
        assert inbox["agency"] == recipient.organ_id and inbox["ready"] >= 1
        metrics = (await http.get("/metrics")).text
        assert f'lienthong_inbox_depth{{agency="{recipient.organ_id}"}}' in metrics

        # a dead letter: listed, inspected, requeued by an admin, and then delivered
        lost_id = f"{sender.organ_id},2026/11/23,{uuid.uuid4().hex[:6]}/CV"
        lost = world.document(sender, [recipient], document_id=lost_id)
        letter = await dead_letter(world, lost, sender.organ_id, "hub error: disk full")
        junk = await dead_letter(world, b"<junk/>", sender.organ_id, "hub error: test")
        listed = (await http.get("/api/v1/ops/dead-letters", headers=bearer(viewer))).json()
        assert {d["id"] for d in listed["dead_letters"]} >= {letter, junk}
        one = (await http.get(f"/api/v1/ops/dead-letters/{letter}", headers=bearer(viewer))).json()
        assert one["reason"] == "hub error: disk full" and lost_id in one["body"]
        denied = await http.post(
            f"/api/v1/ops/dead-letters/{letter}/requeue", headers=bearer(viewer)
        )
        assert denied.status_code == 403
        done = await http.post(f"/api/v1/ops/dead-letters/{letter}/requeue", headers=bearer(admin))
        assert done.status_code == 200, done.text
        assert (await world.receipts(sender, [letter]))[letter].accepted
        dropped = await http.post(f"/api/v1/ops/dead-letters/{junk}/discard", headers=bearer(admin))
        assert dropped.status_code == 200
        left = (await http.get("/api/v1/ops/dead-letters", headers=bearer(viewer))).json()
        assert not {d["id"] for d in left["dead_letters"]} & {letter, junk}
        gone = await http.post(f"/api/v1/ops/dead-letters/{junk}/discard", headers=bearer(admin))
        assert gone.status_code == 404
        timeline = await http.get(f"/api/v1/documents/{lost_id}", headers=bearer(viewer))
        assert timeline.status_code == 200

        # suspend: the agency's next submission is refused; the action is on record
        done = await http.post(
            f"/api/v1/ops/agencies/{sender.organ_id}/suspend", headers=bearer(admin)
        )
        assert done.json()["changed"] is True
        await asyncio.sleep(2.5)  # the registry snapshot follows within seconds
        after = await world.send(sender, world.document(sender, [recipient]))
        assert (await world.receipts(sender, [after]))[after].code == "SENDER_SUSPENDED"
        agency = (
            await http.get(f"/api/v1/ops/agencies/{sender.organ_id}", headers=bearer(viewer))
        ).json()
        assert agency["state"] == "suspended" and agency["certificates"]
        recorded = (await http.get("/api/v1/ops/actions", headers=bearer(viewer))).json()
        kinds = [(a["action"], a["target"]) for a in recorded["actions"]]
        assert ("agency.suspend", sender.organ_id) in kinds
        assert ("dead_letter.requeue", letter) in kinds and ("dead_letter.discard", junk) in kinds
        assert all(a["operator"].startswith("admin-") for a in recorded["actions"])

        # the dashboard and its assets are served by the hub itself
        page = await http.get("/")
        assert page.status_code == 200 and "/static/app.js" in page.text
        assert (await http.get("/static/app.js")).status_code == 200
        schema = (await http.get("/openapi.json")).json()
        assert "/api/v1/ops/dead-letters/{letter_id}/requeue" in schema["paths"]
