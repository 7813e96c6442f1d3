"""One broker message less per document while ingress is quiet (issue 18): triage handles a
document itself instead of moving it into a work lane — and under a backlog it still moves
them, so every hub process shares the work and an urgent package overtakes
(tests/test_urgent.py holds the overtaking)."""

from __future__ import annotations

import asyncio

from hub import metrics
from tests.conftest import random_organ_id
from tests.harness import World, running_hub


def placed(where: str) -> float:
    return metrics.TRIAGED.labels(where)._value.get()


async def test_a_quiet_ingress_saves_the_lane_and_a_backlog_uses_it(world: World, settings) -> None:
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    here, lanes = placed("here"), placed("ordinary") + placed("urgent")
    async with running_hub(settings):
        for _ in range(5):  # one at a time: ingress is quiet
            sent = await world.send(sender, world.document(sender, [recipient], attachments=[]))
            assert (await world.receipts(sender, [sent]))[sent].outcome == "accepted"
    assert placed("here") - here == 5
    assert placed("ordinary") + placed("urgent") == lanes
    delivered = [m for m in world.kept.get(sender.organ_id, [])]
    assert not delivered  # the sender got receipts only
    assert len([m for m in await world.drain(recipient) if m.type == "edoc"]) == 5

    # a backlog waiting in ingress when the hub starts goes mostly through the lanes
    backlog = [world.document(sender, [recipient], attachments=[]) for _ in range(300)]
    sent_ids = await asyncio.gather(*(world.send(sender, body) for body in backlog))
    here, lanes = placed("here"), placed("ordinary") + placed("urgent")
    async with running_hub(settings):
        receipts = await world.receipts(sender, sent_ids, timeout=120)
    assert all(r.outcome == "accepted" for r in receipts.values())
    moved = placed("ordinary") + placed("urgent") - lanes
    kept_here = placed("here") - here
    assert moved + kept_here == 300 and moved > kept_here, (moved, kept_here)
    assert len([m for m in await world.drain(recipient) if m.type == "edoc"]) == 300
