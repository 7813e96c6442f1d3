"""Recording many submissions in one transaction — the group commit of :mod:`hub.records`.

A batch holds new documents (BussinessDocType 0) that passed every check and rejected
submissions: the bulk of the traffic, and the submissions whose recording needs no rule that
reads other documents. Their rows are written with one statement per table for the whole
batch (arrays opened with ``unnest``), so a batch of fifty costs about as many round trips
and one commit, where fifty transactions cost five hundred and fifty commits.

Exactly what :func:`hub.records.record` would have written is written: the same package,
document, receipt, delivery and event rows (the tests compare both ways). What does not fit —
a (submitter, message_id) seen before (replayed), a DocumentId its sender used before (the
duplicate rules) — goes through :func:`hub.records.record` inside the same transaction.
Revokes, updates, replacements and statuses lock the documents they concern and are never
batched (:func:`batchable`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import cast

from hub import events, receipt, records
from hub.broker import names
from hub.db import DB, Q
from hub.decision import Checked, Rejection, Submission
from hub.package import BusinessType


@dataclass(frozen=True, kw_only=True, slots=True)
class Pending:
    """A decided submission waiting to be recorded."""

    submission: Submission
    result: Checked | Rejection
    now: dt.datetime
    lane: str = "ordinary"

    @property
    def key(self) -> Hashable:
        """Two items with the same key are never in one batch."""
        if isinstance(self.result, Checked) and self.result.document is not None:
            return ("document", self.result.sender, self.result.document_id)
        return ("message", self.submission.submitter, self.submission.message_id)


def batchable(result: Checked | Rejection) -> bool:
    """Rejections and new documents; not what changes or answers an earlier document."""
    if isinstance(result, Rejection):
        return True
    document = result.document
    return document is not None and document.business_type is BusinessType.NEW


@dataclass(frozen=True, kw_only=True, slots=True)
class _Row:
    """One submission of the batch, everything decided but the ids PostgreSQL gives."""

    pending: Pending
    values: tuple[object, ...]
    facts: receipt.ReceiptFacts
    receipt_xml: bytes
    plan: records.Plan
    event: dict[str, object]
    organ_id: str


_RECIPIENTS = 17
"""The recipients' place in :func:`hub.records.package_values`."""


def _joined(organ_ids: Sequence[str]) -> str:
    return ",".join(organ_ids)


def _prepare(pending: Pending, signer: receipt.HubSigner) -> _Row:
    submission, result = pending.submission, pending.result
    if isinstance(result, Rejection):
        values, facts = records.rejection_parts(
            submission, result, now=pending.now, lane=pending.lane
        )
        plan = records.Plan(
            deliver_to=(), kind="receipt", urgent=False, document_ref=None, detail=result.detail
        )
        event: dict[str, object] = {"code": result.code.value}
        organ_id = submission.submitter
    else:
        assert result.document is not None
        plan = records.new_document_plan(result.document, None)
        values = records.package_values(
            submission,
            code=None,
            detail=plan.detail,
            document_id=result.document_id,
            sender=result.sender,
            document=result.document,
            status=None,
            signer=result.signer_fingerprint,
            recipients=plan.deliver_to,
            now=pending.now,
            lane=pending.lane,
        )
        facts = records.acceptance_facts(submission, result, plan, now=pending.now)
        event = records.acceptance_event(submission, plan)
        organ_id = result.sender
    return _Row(
        pending=pending,
        values=values,
        facts=facts,
        receipt_xml=receipt.sign(facts, signer),
        plan=plan,
        event=event,
        organ_id=organ_id,
    )


async def record_many(
    db: DB, batch: Sequence[Pending], *, signer: receipt.HubSigner
) -> list[records.Recorded]:
    """Record every submission of ``batch`` (at most one per :attr:`Pending.key`) in one
    transaction; the results are in the batch's order."""
    prepared = [_prepare(p, signer) for p in batch]  # signed before any row is locked
    results: dict[int, records.Recorded] = {}
    async with db.transaction():
        seen = {
            (r["submitter"], r["message_id"]): r
            for r in await db.fetch(
                Q.packages_by_messages,
                [p.submission.submitter for p in batch],
                [p.submission.message_id for p in batch],
            )
        }
        new_documents = [
            (p.result.sender, p.result.document_id) for p in batch if isinstance(p.result, Checked)
        ]
        known = (
            {
                (r["sender"], r["document_id"])
                for r in await db.fetch(
                    Q.documents_existing,
                    [s for s, _ in new_documents],
                    [d for _, d in new_documents],
                )
            }
            if new_documents
            else set()
        )
        fresh: list[tuple[int, _Row]] = []
        for index, (pending, row_of) in enumerate(zip(batch, prepared, strict=True)):
            submission = pending.submission
            row = seen.get((submission.submitter, submission.message_id))
            if row is not None:
                results[index] = await records.replay(db, row, submission)
            elif (
                isinstance(pending.result, Checked)
                and (pending.result.sender, pending.result.document_id) in known
            ):
                results[index] = await records.record(
                    db,
                    submission,
                    pending.result,
                    signer=signer,
                    now=pending.now,
                    lane=pending.lane,
                )
            else:
                fresh.append((index, row_of))
        if fresh:
            recorded = await _insert(db, [r for _, r in fresh])
            results.update(zip((i for i, _ in fresh), recorded, strict=True))
    return [results[index] for index in range(len(batch))]


async def _insert(db: DB, rows: list[_Row]) -> list[records.Recorded]:
    columns = [[row.values[i] for row in rows] for i in range(len(rows[0].values))]
    columns[_RECIPIENTS] = [_joined(cast(list[str], r)) for r in columns[_RECIPIENTS]]
    ids = {
        (r["submitter"], r["message_id"]): int(r["id"])
        for r in await db.fetch(Q.packages_insert, *columns)
    }
    package_ids = [
        ids[(row.pending.submission.submitter, row.pending.submission.message_id)] for row in rows
    ]

    documents = [
        (package_id, row.pending.result.document)
        for package_id, row in zip(package_ids, rows, strict=True)
        if isinstance(row.pending.result, Checked) and row.pending.result.document is not None
    ]
    if documents:
        await db.execute(
            Q.documents_insert,
            [d.sender for _, d in documents],
            [d.document_id for _, d in documents],
            [package_id for package_id, _ in documents],
            [d.priority for _, d in documents],
            [d.subject for _, d in documents],
            [_joined(d.recipients) for _, d in documents],
        )

    await db.execute(Q.receipts_insert, package_ids, [row.receipt_xml for row in rows])

    planned = [
        records.planned_deliveries(
            package_id,
            row.pending.submission,
            row.receipt_xml,
            kind=row.plan.kind,
            recipients=row.plan.deliver_to,
        )
        for package_id, row in zip(package_ids, rows, strict=True)
    ]
    flat = [
        (package_id, to, what, message_id, row.plan.urgent, row.facts.document_id)
        for package_id, row, plan in zip(package_ids, rows, planned, strict=True)
        for to, what, message_id, _ in plan
    ]
    delivery_ids: dict[int, dict[tuple[str, str], int]] = {pid: {} for pid in package_ids}
    for r in await db.fetch(
        Q.deliveries_insert_many,
        [f[0] for f in flat],
        [f[1] for f in flat],
        [f[2] for f in flat],
        [f[3] for f in flat],
        [f[4] for f in flat],
        [f[5] for f in flat],
        [names.inbox_key(f[1], urgent=f[4]) for f in flat],
    ):
        delivery_ids[r["package_id"]][(r["recipient"], r["kind"])] = int(r["id"])

    await events.append_many(
        db,
        [
            records.outcome_event(
                package_id,
                row.pending.submission,
                row.facts,
                row.receipt_xml,
                row.event,
                row.organ_id,
            )
            for package_id, row in zip(package_ids, rows, strict=True)
        ],
    )

    return [
        records.Recorded(
            package_id=package_id,
            code=row.facts.code,
            detail=row.facts.detail,
            receipt=row.receipt_xml,
            outbound=records.outbound_of(
                package_id,
                plan,
                delivery_ids[package_id],
                urgent=row.plan.urgent,
                document_id=row.facts.document_id,
            ),
        )
        for package_id, row, plan in zip(package_ids, rows, planned, strict=True)
    ]
