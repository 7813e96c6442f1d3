"""Status order across hub processes (issue 17): three hubs take work from the same queues;
many recipients each report 01 → 03 → 05 about one document at once, back to back. Every
status must be applied in the order its recipient sent it — none refused as going backward,
each recipient's statuses recorded 01, 03, 05."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg

from tests.conftest import random_organ_id
from tests.harness import Agency, World
from tests.resilience import HubProcess

CODES = ("01", "03", "05")


async def test_statuses_keep_their_order_through_three_hubs(
    world: World, settings, env, tmp_path: Path
) -> None:
    sender = await world.agency(random_organ_id())
    recipients = [await world.agency(random_organ_id()) for _ in range(12)]
    document_id = f"{sender.organ_id},2026/12/05,{random_organ_id()[-4:]}/VP"
    hubs = [
        HubProcess(env={**env, "LIENTHONG_HTTP": "127.0.0.1:0"}, log=tmp_path / f"hub-{n}.log")
        for n in range(3)
    ]
    for hub in hubs:
        hub.start()
    try:
        for hub in hubs:
            await hub.started()
        sent = await world.send(sender, world.document(sender, recipients, document_id=document_id))
        assert (await world.receipts(sender, [sent], timeout=60))[sent].accepted
        bodies = {
            r.organ_id: [world.status(r, sender.organ_id, document_id, c) for c in CODES]
            for r in recipients
        }

        async def report(recipient: Agency) -> list[str]:
            # back to back: each published (and confirmed) before the next, none awaited
            return [
                await world.send(recipient, body, kind="status")
                for body in bodies[recipient.organ_id]
            ]

        assert all(hub.process and hub.process.poll() is None for hub in hubs)  # three running
        sent_ids = await asyncio.gather(*(report(r) for r in recipients))
        for recipient, ids in zip(recipients, sent_ids, strict=True):
            got = await world.receipts(recipient, ids, timeout=60)
            refused = {got[i].code: got[i].detail for i in ids if not got[i].accepted}
            assert not refused, f"{recipient.organ_id}: {refused}"
    finally:
        for hub in hubs:
            hub.stop()
    db = await asyncpg.connect(settings.database_url)
    try:
        rows = await db.fetch(
            "SELECT s.recipient, s.status_code FROM status_event s "
            "JOIN document d ON d.id = s.document_ref WHERE d.document_id = $1 ORDER BY s.id",
            document_id,
        )
    finally:
        await db.close()
    recorded: dict[str, list[str]] = {}
    for row in rows:
        recorded.setdefault(row["recipient"], []).append(row["status_code"])
    assert recorded == {r.organ_id: list(CODES) for r in recipients}
