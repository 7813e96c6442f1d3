"""Review findings 3 and 9: what a refused package says of itself is a claim, shown as one,
only to who submitted it and to operators — and nothing from outside runs in a spreadsheet.

On the old code a rejected package's claimed From and DocumentId were shown in the named
document's timeline as "by <that agency>", with text the attacker chose; and a Subject or
DocumentId starting with ``=`` went into the operators' CSV as a formula.
"""

from __future__ import annotations

from hub import oversight, timeline
from hub.check.xmldsig import DS_NS
from tests import pure
from tests.conftest import random_organ_id
from tests.harness import World, running_hub


async def test_a_forged_rejection_is_not_in_the_victims_timeline(world: World, settings) -> None:
    victim, mallory, recipient = [await world.agency(random_organ_id()) for _ in range(3)]
    document_id = f"{victim.organ_id},2026/12/05,{random_organ_id()[-3:]}/CV"
    async with running_hub(settings):
        real = await world.send(
            victim, world.document(victim, [recipient], document_id=document_id)
        )
        assert (await world.receipts(victim, [real]))[real].accepted
        # mallory signs a package claiming to be the victim's, naming the same document
        forged = world.document(
            victim, [recipient], document_id=document_id, signer=mallory, subject="=HYPERLINK(1)"
        )
        sent = await world.send(mallory, forged)
        refused = (await world.receipts(mallory, [sent]))[sent]
        assert refused.code == "SENDER_MISMATCH"

    db = world.session.db
    seen_by_victim = await timeline.timeline(
        db, document_id, timeline.Viewer(system=victim.organ_id)
    )
    assert seen_by_victim is not None
    events = seen_by_victim["documents"][0]["events"]
    assert [e for e in events if e["event"] == "rejected"] == []

    seen_by_operator = await timeline.timeline(
        db, document_id, timeline.Viewer(system=None, operator="op")
    )
    assert seen_by_operator is not None
    rejected = [e for e in seen_by_operator["documents"][0]["events"] if e["event"] == "rejected"]
    assert len(rejected) == 1
    assert rejected[0]["by"] == mallory.organ_id
    assert rejected[0]["claimed"] == {"sender": victim.organ_id, "document_id": document_id}

    found = await oversight.search(db, oversight.Search(code="SENDER_MISMATCH"))
    assert found[0]["sender"] == mallory.organ_id
    assert found[0]["claimed_sender"] == victim.organ_id


def test_csv_cells_never_start_a_formula() -> None:
    rows = [
        {"document_id": "=cmd|' /C calc'!A0", "subject": "+1", "sender": "-2", "x": "@SUM(A1)"},
        {"document_id": "G22,2026/12/05,1/CV", "subject": "Về việc", "sender": "ok", "x": ["a"]},
    ]
    text = oversight.as_csv(rows)
    lines = text.splitlines()
    assert lines[1].split(",")[0] == "'=cmd|' /C calc'!A0"
    assert "'+1" in lines[1] and "'-2" in lines[1] and "'@SUM(A1)" in lines[1]
    assert lines[2] == '"G22,2026/12/05,1/CV",Về việc,ok,a'


def test_attacker_chosen_text_in_a_rejection_is_bounded() -> None:
    keys = pure.keys()
    method = "http://evil.example/" + "A" * 20_000
    data = pure.sign(
        pure.unsigned(),
        keys,
        after=lambda root: root.find(f".//{{{DS_NS}}}SignatureMethod").set("Algorithm", method),  # type: ignore[union-attr]
    )
    rejection = pure.decide(data, keys.snapshot())
    assert not hasattr(rejection, "document") and len(rejection.detail) <= 1000  # type: ignore[union-attr]
    assert "A" * 101 not in rejection.detail  # type: ignore[union-attr]
