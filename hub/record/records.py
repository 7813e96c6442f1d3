"""Recording a submission's outcome in PostgreSQL, exactly once per (submitter, message_id).

One transaction reads the facts the rules need (duplicates, references, status transitions)
under the documents' locks, decides the plan (:mod:`hub.record.rules`, pure), signs the receipt
and writes the package, its deliveries (one per recipient plus the submitter's receipt), the
receipt and the link through the one write path (:mod:`hub.record.store`), then what else the
rules decided. Publishing happens after the commit; a
delivery left ``pending`` by a crash is published by whoever next sees it (the redelivered
submission, or the sweeper).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg

from hub.check.decision import Checked, Rejection, Submission
from hub.db import DB, Q
from hub.errors import Code
from hub.record import outcomes, receipt, rules, store
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
    """Record one submission: the facts the rules need (locked), the plan, then the one write
    path (:mod:`hub.record.store`) — as for a batch."""
    async with db.transaction():
        existing = await db.fetchrow(
            Q.package_by_message, submission.submitter, submission.message_id
        )
        if existing is not None:
            return await replay(db, existing, submission)
        plan: rules.Plan | None = None
        if isinstance(result, Checked):
            facts = await rules.facts_of(db, result)
            ruled = rules.plan(result, facts, digest=submission.digest)
            if isinstance(ruled, Rejection):
                result = ruled
            else:
                plan = ruled
        decided = outcomes.decided(submission, result, plan, now=now, lane=lane)
        receipt_xml = receipt.sign(decided.facts, signer)
        package_id, document_ref = await store.reserve(db, document=decided.plan.new_document)
        outcome = decided.outcome(receipt_xml, package_id=package_id, document_ref=document_ref)
        [ids] = await store.write(db, [outcome])
        await store.apply(db, package_id, decided.plan.effects)
        return recorded_of(outcome, decided, ids)


def recorded_of(
    outcome: outcomes.Outcome, decided: outcomes.Decided, ids: store.DeliveryIds
) -> Recorded:
    return Recorded(
        package_id=outcome.package_id,
        code=decided.facts.code,
        detail=decided.facts.detail,
        receipt=outcome.receipt,
        outbound=outcome.outbound(ids),
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
