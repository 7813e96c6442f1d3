"""Recording many submissions at once — the group commit of :mod:`hub.record.records`.

A batch holds new documents (BussinessDocType 0) that passed every check and rejected
submissions: the bulk of the traffic, and the submissions whose recording needs no rule that
reads other documents. A batch whose submissions are all fresh costs two round trips: a lookup
(which of them exist already; ids for the new rows) and one statement that writes every row
— packages, documents, versions, recipients, receipts, deliveries and the event links — and
is its own transaction. Fifty submissions one by one cost some five hundred round trips and
fifty commits.

Exactly what :func:`hub.record.records.record` would have written is written: the same rows (the
tests compare both ways). What is not fresh — a (submitter, message_id) seen before
(replayed), a DocumentId its sender used before (the duplicate rules) — goes through
:func:`hub.record.records.record`, in one transaction with the rest of its batch. Revokes, updates,
replacements and statuses lock the documents they concern and are never batched
(:func:`batchable`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import cast

from hub.audit import events
from hub.broker import names
from hub.check.decision import Checked, Rejection, Submission
from hub.check.package import BusinessType
from hub.db import DB, Q
from hub.record import outcomes, receipt, records, rules


@dataclass(frozen=True, kw_only=True, slots=True)
class Pending:
    """A decided submission waiting to be recorded."""

    submission: Submission
    result: Checked | Rejection
    now: dt.datetime
    lane: str = "ordinary"

    @property
    def keys(self) -> tuple[Hashable, ...]:
        """Two items with a key in common are never in one batch: one statement cannot insert
        the same message, or the same sender's DocumentId, twice."""
        message = ("message", self.submission.submitter, self.submission.message_id)
        if isinstance(self.result, Checked) and self.result.document is not None:
            return (message, ("document", self.result.sender, self.result.document_id))
        return (message,)


def batchable(result: Checked | Rejection) -> bool:
    """Rejections and new documents; not what changes or answers an earlier document."""
    if isinstance(result, Rejection):
        return True
    document = result.document
    if result.addressed.aliases:
        return False  # rare (a closed recipient): recorded one by one, with x-addressed-to
    return document is not None and document.business_type is BusinessType.NEW


@dataclass(frozen=True, kw_only=True, slots=True)
class _Row:
    """One submission of the batch, everything decided but the ids PostgreSQL gives."""

    pending: Pending
    package: outcomes.PackageRow
    facts: receipt.ReceiptFacts
    receipt_xml: bytes
    plan: rules.Plan
    event: dict[str, object]
    organ_id: str


def _prepare(pending: Pending, signer: receipt.HubSigner) -> _Row:
    submission, result = pending.submission, pending.result
    if isinstance(result, Rejection):
        values, facts = outcomes.rejection_parts(
            submission, result, now=pending.now, lane=pending.lane
        )
        plan = rules.Plan(
            deliver_to=(), kind="receipt", urgent=False, document_ref=None, detail=result.detail
        )
        event: dict[str, object] = {"code": result.code.value}
        organ_id = submission.submitter
    else:
        assert result.document is not None
        plan = rules.new_document_plan(result.document, None)
        values = outcomes.package_values(
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
        facts = outcomes.acceptance_facts(submission, result, plan, now=pending.now)
        event = outcomes.acceptance_event(submission, result, plan)
        organ_id = result.sender
    return _Row(
        pending=pending,
        package=values,
        facts=facts,
        receipt_xml=receipt.sign(facts, signer),
        plan=plan,
        event=event,
        organ_id=organ_id,
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class _Lookup:
    """What ``batch_lookup`` found: what exists already, and ids for the batch's rows."""

    messages: frozenset[tuple[str, str]]
    documents: frozenset[tuple[str, str]]
    package_ids: list[int]
    document_ids: list[int]

    def fresh(self, row: _Row) -> bool:
        submission, result = row.pending.submission, row.pending.result
        if (submission.submitter, submission.message_id) in self.messages:
            return False
        return not (
            isinstance(result, Checked) and (result.sender, result.document_id) in self.documents
        )


def _new_document(row: _Row) -> tuple[str, str] | None:
    result = row.pending.result
    return (result.sender, result.document_id) if isinstance(result, Checked) else None


async def _lookup(db: DB, rows: Sequence[_Row]) -> _Lookup:
    documents = [d for d in map(_new_document, rows) if d is not None]
    found = await db.fetch(
        Q.batch_lookup,
        [r.pending.submission.submitter for r in rows],
        [r.pending.submission.message_id for r in rows],
        [sender for sender, _ in documents],
        [document_id for _, document_id in documents],
        len(rows),
        len(documents),
    )
    return _Lookup(
        messages=frozenset((r["a"], r["b"]) for r in found if r["what"] == "package"),
        documents=frozenset((r["a"], r["b"]) for r in found if r["what"] == "document"),
        package_ids=[int(r["id"]) for r in found if r["what"] == "package_id"],
        document_ids=[int(r["id"]) for r in found if r["what"] == "document_id"],
    )


async def record_many(
    db: DB, batch: Sequence[Pending], *, signer: receipt.HubSigner
) -> list[records.Recorded]:
    """Record every submission of ``batch`` (no two sharing one of :attr:`Pending.keys`); the
    results are in the batch's order.

    Two round trips when every submission is fresh (the lookup, then one statement that is its
    own transaction); otherwise one transaction in which what is not fresh goes through
    :func:`hub.record.records.record` and the rest through the same one statement."""
    prepared = [_prepare(p, signer) for p in batch]  # signed before any row is locked
    lookup = await _lookup(db, prepared)
    if all(lookup.fresh(row) for row in prepared):
        return await _insert(db, prepared, lookup)
    results: dict[int, records.Recorded] = {}
    async with db.transaction():
        fresh: list[tuple[int, _Row]] = []
        for index, row in enumerate(prepared):
            if lookup.fresh(row):
                fresh.append((index, row))
                continue
            pending = row.pending
            results[index] = await records.record(
                db,
                pending.submission,
                pending.result,
                signer=signer,
                now=pending.now,
                lane=pending.lane,
            )
        if fresh:
            recorded = await _insert(db, [row for _, row in fresh], lookup)
            results.update(zip((index for index, _ in fresh), recorded, strict=True))
    return [results[index] for index in range(len(batch))]


async def _insert(db: DB, rows: list[_Row], lookup: _Lookup) -> list[records.Recorded]:
    """``batch_insert``: every row of these fresh submissions in one statement."""
    package_ids = lookup.package_ids[: len(rows)]
    spare_documents = iter(lookup.document_ids)
    document_refs: list[int | None] = [
        next(spare_documents) if _new_document(row) is not None else None for row in rows
    ]
    packages = [
        [
            package_id,
            *row.package.columns(joined=True),
            document_ref,
        ]
        for package_id, row, document_ref in zip(package_ids, rows, document_refs, strict=True)
    ]
    documents = []
    for package_id, row, document_ref in zip(package_ids, rows, document_refs, strict=True):
        if document_ref is not None:
            document = cast(Checked, row.pending.result).document
            assert document is not None  # batchable: a new document
            documents.append((document_ref, document, package_id))
    recipients = [
        (document_ref, organ_id, package_id)
        for document_ref, document, package_id in documents
        for organ_id in document.recipients
    ]
    planned = [
        outcomes.planned_deliveries(
            package_id,
            row.pending.submission,
            row.receipt_xml,
            kind=row.plan.kind,
            recipients=row.plan.deliver_to,
        )
        for package_id, row in zip(package_ids, rows, strict=True)
    ]
    deliveries = [
        (package_id, to, what, message_id, row.plan.urgent, row.facts.document_id)
        for package_id, row, plan in zip(package_ids, rows, planned, strict=True)
        for to, what, message_id, _ in plan
    ]
    links = events.links(
        outcomes.outcome_event(
            package_id, row.pending.submission, row.facts, row.receipt_xml, row.event, row.organ_id
        )
        for package_id, row in zip(package_ids, rows, strict=True)
    )
    found = await db.fetch(
        Q.batch_insert,
        *_columns(packages, 21),
        [ref for ref, _, _ in documents],
        [document.sender for _, document, _ in documents],
        [document.document_id for _, document, _ in documents],
        [package_id for _, _, package_id in documents],
        [document.priority for _, document, _ in documents],
        [document.subject for _, document, _ in documents],
        *_columns(recipients, 3),
        package_ids,
        [row.receipt_xml for row in rows],
        *_columns(deliveries, 6),
        [names.inbox_key(d[1], urgent=d[4]) for d in deliveries],
        *events.arrays(links),
    )
    delivery_ids: dict[int, dict[tuple[str, str], int]] = {pid: {} for pid in package_ids}
    for r in found:
        if r["id"] is not None:
            delivery_ids[r["package_id"]][(r["recipient"], r["kind"])] = int(r["id"])
    return [
        records.Recorded(
            package_id=package_id,
            code=row.facts.code,
            detail=row.facts.detail,
            receipt=row.receipt_xml,
            outbound=outcomes.outbound_of(
                package_id,
                plan,
                delivery_ids[package_id],
                urgent=row.plan.urgent,
                document_id=row.facts.document_id,
                sender=row.pending.result.sender,
            ),
        )
        for package_id, row, plan in zip(package_ids, rows, planned, strict=True)
    ]


def _columns(rows: Sequence[Sequence[object]], width: int) -> list[list[object]]:
    """Rows turned into ``width`` column arrays (empty arrays for no rows)."""
    return [[row[i] for row in rows] for i in range(width)]
