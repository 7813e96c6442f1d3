"""Recording a submission's outcome in PostgreSQL, exactly once per (submitter, message_id).

One transaction records the package, applies the rules that need the records (duplicates,
references, status transitions), plans one delivery per recipient plus the submitter's
receipt, signs the receipt and appends the events. Publishing happens after the commit; a
delivery left ``pending`` by a crash is published by whoever next sees it (the redelivered
submission, or the sweeper).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import asyncpg

from hub.audit import events
from hub.broker import names
from hub.check.decision import Checked, Rejection, Submission
from hub.db import DB, Q
from hub.errors import Code, PackageRejected
from hub.record import outcomes, receipt, rules
from hub.record.deliveries import Outbound


@dataclass(frozen=True, kw_only=True, slots=True)
class Recorded:
    package_id: int
    code: Code | None
    detail: str
    receipt: bytes
    outbound: tuple[Outbound, ...]
    """Deliveries still to publish (all of them, unless this is a replay)."""
    replay: bool = False

    @property
    def outcome(self) -> str:
        return "accepted" if self.code is None else "rejected"


async def record(
    db: DB,
    submission: Submission,
    result: Checked | Rejection,
    *,
    signer: receipt.HubSigner,
    now: dt.datetime,
    lane: str = "ordinary",
) -> Recorded:
    async with db.transaction():
        existing = await db.fetchrow(
            Q.package_by_message, submission.submitter, submission.message_id
        )
        if existing is not None:
            return await replay(db, existing, submission)
        if isinstance(result, Checked):
            try:
                async with db.transaction():  # a savepoint: a rule may still refuse
                    return await _accept(db, submission, result, signer=signer, now=now, lane=lane)
            except PackageRejected as exc:
                result = Rejection(
                    code=exc.code,
                    detail=exc.detail,
                    document_id=result.document_id,
                    sender=result.sender,
                )
        return await _reject(db, submission, result, signer=signer, now=now, lane=lane)


async def _insert_package(db: DB, row: outcomes.PackageRow) -> int:
    package_id: int = await db.fetchval(Q.package_insert, *row.columns())
    return package_id


async def _plan_deliveries(
    db: DB,
    package_id: int,
    submission: Submission,
    receipt_xml: bytes,
    *,
    kind: str,
    recipients: tuple[str, ...],
    urgent: bool,
    document_id: str | None,
    sender: str | None,
    addressed: Mapping[str, str],
) -> tuple[Outbound, ...]:
    planned = outcomes.planned_deliveries(
        package_id, submission, receipt_xml, kind=kind, recipients=recipients
    )
    rows = await db.fetch(
        Q.deliveries_insert,
        package_id,
        [to for to, _, _, _ in planned],
        [what for _, what, _, _ in planned],
        [message_id for _, _, message_id, _ in planned],
        urgent,
        document_id,
        [names.inbox_key(to, urgent=urgent) for to, _, _, _ in planned],
        [None if what == "receipt" else addressed.get(to) for to, what, _, _ in planned],
    )
    ids = {(r["recipient"], r["kind"]): r["id"] for r in rows}
    return outcomes.outbound_of(
        package_id,
        planned,
        ids,
        urgent=urgent,
        document_id=document_id,
        sender=sender,
        addressed=addressed,
    )


async def _accept(
    db: DB,
    submission: Submission,
    checked: Checked,
    *,
    signer: receipt.HubSigner,
    now: dt.datetime,
    lane: str,
) -> Recorded:
    package_id = await _insert_package(
        db,
        outcomes.package_values(
            submission,
            code=None,
            detail="",
            document_id=checked.document_id,
            sender=checked.sender,
            document=checked.document,
            status=checked.status,
            signer=checked.signer_fingerprint,
            recipients=checked.recipients,
            now=now,
            lane=lane,
        ),
    )
    if checked.document is not None:
        plan = await rules.apply_document(db, package_id, checked.document)
    else:
        assert checked.status is not None
        plan = await rules.apply_status(db, package_id, checked.status)
    facts = outcomes.acceptance_facts(submission, checked, plan, now=now)
    await db.execute(
        Q.package_set_plan, package_id, facts.detail, list(plan.deliver_to), plan.document_ref
    )
    return await _conclude(
        db,
        package_id,
        submission,
        facts,
        signer,
        kind=plan.kind,
        urgent=plan.urgent,
        event=outcomes.acceptance_event(submission, checked, plan),
        organ_id=checked.sender,
        sender=checked.sender,
        addressed=checked.addressed.aliases,
    )


async def _reject(
    db: DB,
    submission: Submission,
    rejection: Rejection,
    *,
    signer: receipt.HubSigner,
    now: dt.datetime,
    lane: str,
) -> Recorded:
    values, facts = outcomes.rejection_parts(submission, rejection, now=now, lane=lane)
    package_id = await _insert_package(db, values)
    return await _conclude(
        db,
        package_id,
        submission,
        facts,
        signer,
        kind="receipt",
        urgent=False,
        event={"code": rejection.code.value},
        organ_id=submission.submitter,
        sender=rejection.sender,
        addressed={},
    )


async def _conclude(
    db: DB,
    package_id: int,
    submission: Submission,
    facts: receipt.ReceiptFacts,
    signer: receipt.HubSigner,
    *,
    kind: str,
    urgent: bool,
    event: dict[str, object],
    organ_id: str,
    sender: str | None,
    addressed: Mapping[str, str],
) -> Recorded:
    """Sign and keep the receipt, plan the deliveries (and the receipt's), append the event."""
    receipt_xml = receipt.sign(facts, signer)
    await db.execute(Q.receipt_insert, package_id, receipt_xml)
    outbound = await _plan_deliveries(
        db,
        package_id,
        submission,
        receipt_xml,
        kind=kind,
        recipients=tuple(facts.recipients),
        urgent=urgent,
        document_id=facts.document_id,
        sender=sender,
        addressed=addressed,
    )
    await events.append_many(
        db, [outcomes.outcome_event(package_id, submission, facts, receipt_xml, event, organ_id)]
    )
    return Recorded(
        package_id=package_id,
        code=facts.code,
        detail=facts.detail,
        receipt=receipt_xml,
        outbound=outbound,
    )


async def replay(db: DB, existing: asyncpg.Record, submission: Submission) -> Recorded:
    """The same (submitter, message_id) again: the same outcome, nothing delivered twice.

    Deliveries still pending are published; the receipt is sent again (same message_id, so
    the submitter's consumer drops it if it had it), since a sender usually resubmits because
    it never saw the receipt."""
    package_id = existing["id"]
    receipt_xml: bytes = await db.fetchval(Q.receipt_of_package, package_id)
    body = submission.body
    if existing["digest"] != submission.digest:
        body = await db.fetchval(Q.package_body, package_id) or b""
    outbound = []
    for row in await db.fetch(Q.deliveries_of_package, package_id):
        if row["state"] != "pending" and row["kind"] != "receipt":
            continue
        outbound.append(
            Outbound.from_row(row, package_id, receipt_xml if row["kind"] == "receipt" else body)
        )
    code = Code(existing["code"]) if existing["code"] else None
    return Recorded(
        package_id=package_id,
        code=code,
        detail=existing["detail"],
        receipt=receipt_xml,
        outbound=tuple(outbound),
        replay=True,
    )
