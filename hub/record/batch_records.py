"""Recording many submissions at once — the group commit of :mod:`hub.record.records`.

A batch holds new documents (BussinessDocType 0) that passed every check and rejected
submissions: the bulk of the traffic, and the submissions whose recording needs no rule that
reads other documents. A batch whose submissions are all fresh costs two round trips: a lookup
(which of them exist already; ids for the new rows) and one statement that writes every row
— packages, documents, versions, recipients, receipts, deliveries and the event links — and
is its own transaction. Fifty submissions one by one cost some five hundred round trips and
fifty commits.

Both go through the one write path (:func:`hub.record.store.write`), so exactly what
:func:`hub.record.records.record` would have written is written: the same rows (the tests
compare both ways). What is not fresh — a (submitter, message_id) seen before
(replayed), a DocumentId its sender used before (the duplicate rules) — goes through
:func:`hub.record.records.record`, in one transaction with the rest of its batch. Revokes, updates,
replacements and statuses lock the documents they concern and are never batched
(:func:`batchable`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from hub.check.decision import Checked, Rejection, Submission
from hub.check.package import BusinessType
from hub.db import DB
from hub.record import outcomes, receipt, records, rules, store


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


def _decided(pending: Pending) -> outcomes.Decided:
    result = pending.result
    plan = None
    if isinstance(result, Checked):
        assert result.document is not None  # batchable: a new document
        plan = rules.new_document_plan(result.document)
    return outcomes.decided(pending.submission, result, plan, now=pending.now, lane=pending.lane)


def _fresh(lookup: store.Lookup, decided: outcomes.Decided) -> bool:
    submission = decided.submission
    if (submission.submitter, submission.message_id) in lookup.messages:
        return False
    document = decided.document
    return document is None or (document.sender, document.document_id) not in lookup.documents


async def record_many(
    db: DB, batch: Sequence[Pending], *, signer: receipt.HubSigner
) -> list[records.Recorded]:
    """Record every submission of ``batch`` (no two sharing one of :attr:`Pending.keys`); the
    results are in the batch's order.

    Two round trips when every submission is fresh (the lookup, then the one write); otherwise
    one transaction in which what is not fresh goes through :func:`hub.record.records.record`
    and the rest through the same one write."""
    decided = [_decided(p) for p in batch]
    signed = [receipt.sign(d.facts, signer) for d in decided]  # before any row is locked
    lookup = await store.lookup(
        db,
        [(d.submission.submitter, d.submission.message_id) for d in decided],
        [(d.document.sender, d.document.document_id) for d in decided if d.document is not None],
    )
    fresh = [i for i, d in enumerate(decided) if _fresh(lookup, d)]
    if len(fresh) == len(batch):
        return await _write(db, decided, signed, lookup)
    results: dict[int, records.Recorded] = {}
    async with db.transaction():
        for index, pending in enumerate(batch):
            if index not in fresh:
                results[index] = await records.record(
                    db,
                    pending.submission,
                    pending.result,
                    signer=signer,
                    now=pending.now,
                    lane=pending.lane,
                )
        if fresh:
            written = await _write(
                db, [decided[i] for i in fresh], [signed[i] for i in fresh], lookup
            )
            results.update(zip(fresh, written, strict=True))
    return [results[index] for index in range(len(batch))]


async def _write(
    db: DB, decided: list[outcomes.Decided], signed: list[bytes], lookup: store.Lookup
) -> list[records.Recorded]:
    """These fresh submissions through the one write path, with the lookup's ids."""
    spare_documents = iter(lookup.document_refs)
    written = [
        d.outcome(
            receipt_xml,
            package_id=package_id,
            document_ref=next(spare_documents) if d.plan.new_document else None,
        )
        for d, receipt_xml, package_id in zip(decided, signed, lookup.package_ids, strict=False)
    ]
    ids = await store.write(db, written)
    return [
        records.recorded_of(outcome, d, delivery_ids)
        for outcome, d, delivery_ids in zip(written, decided, ids, strict=True)
    ]
