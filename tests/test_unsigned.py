"""The unsigned policy on every channel (here AMQP): refused by default, accepted as
``transport`` under ``--unsigned accept``, and said so by the receipt and the evidence bundle."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from adapters.sdk import build_document
from hub import home
from hub.audit import evidence
from hub.registry import systems
from tests.conftest import random_organ_id
from tests.harness import World, lienthong, running_hub


async def test_unsigned_over_amqp_then_its_evidence_bundle(
    world: World, settings, env, tmp_path: Path
) -> None:
    system = await world.system(f"unsigned.{uuid.uuid4().hex[:6]}")
    sender = await world.agency(random_organ_id(), host=system)
    recipient = await world.agency(random_organ_id())
    other = await world.system(f"signed.{uuid.uuid4().hex[:6]}")
    stranger = await world.agency(random_organ_id(), host=other)

    def unsigned(agency) -> tuple[bytes, str]:  # type: ignore[no-untyped-def]
        spec = world.document_spec(agency, [recipient])
        return build_document(spec), spec.document_id

    async with running_hub(settings):
        body, _ = unsigned(sender)
        refused = await world.send(sender, body)
        receipt = (await world.receipts(sender, [refused]))[refused]
        assert (receipt.outcome, receipt.code) == ("rejected", "SIGNATURE_MISSING")

        await systems.set_policy(world.session.db, system.system_id, "accept")
        await asyncio.sleep(1.5)
        body, document_id = unsigned(sender)
        taken = await world.send(sender, body)
        receipt = (await world.receipts(sender, [taken]))[taken]
        assert receipt.outcome == "accepted", receipt.detail
        assert b"<Assurance>transport</Assurance>" in receipt.xml
        [delivered] = [m for m in await world.drain(recipient, wait=0.5) if m.type == "edoc"]
        assert delivered.body == body

        # the policy is the system's own: another system's unsigned package is still refused
        body, _ = unsigned(stranger)
        elsewhere = await world.send(stranger, body)
        assert (await world.receipts(stranger, [elsewhere]))[elsewhere].code == "SIGNATURE_MISSING"

        # a signed package from the same system still says signature
        signed = await world.send(sender, world.document(sender, [recipient]))
        assert (
            b"<Assurance>signature</Assurance>"
            in (await world.receipts(sender, [signed]))[signed].xml
        )

    out = tmp_path / "evidence.zip"
    made = await asyncio.to_thread(
        lienthong, env, "evidence", "export", document_id, "-o", str(out)
    )
    assert made.returncode == 0, made.stderr
    report = evidence.verify(out.read_bytes(), [home.load_dev_ca(settings).cert])
    assert report.ok, report.problems
    assert any("accepted unsigned (assurance transport" in line for line in report.checked)
