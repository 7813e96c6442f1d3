"""The facts the record rules decide by (:mod:`hub.record.rules.decide`), read inside the
submission's transaction, the documents concerned locked until it ends."""

from __future__ import annotations

import asyncpg

from hub.check.decision import Checked
from hub.check.package import BusinessType, DocumentPackage, StatusPackage
from hub.db import DB, Q
from hub.record.rules.changes import target_of
from hub.record.rules.decide import DocumentFacts, Earlier, Facts
from hub.record.rules.statuses import KnownDocument, StatusFacts


def _known(row: asyncpg.Record | None) -> KnownDocument | None:
    if row is None:
        return None
    return KnownDocument(
        ref=int(row["id"]),
        state=row["state"],
        priority=row["priority"] or 0,
        recipients=tuple(row["recipients"]),
    )


async def facts_of(db: DB, checked: Checked) -> Facts:
    if checked.document is not None:
        return await document_facts(db, checked.document)
    assert checked.status is not None
    return await status_facts(db, checked.status)


async def document_facts(db: DB, document: DocumentPackage) -> DocumentFacts:
    kind = document.business_type
    if kind in (BusinessType.REVOKE, BusinessType.UPDATE):
        name = target_of(document)
        return DocumentFacts(
            named={name: _known(await db.fetchrow(Q.document_facts, document.sender, name))}
        )
    named: dict[str, KnownDocument | None] = {}
    for replaced in dict.fromkeys(r.document_id for r in document.replacements):
        named[replaced] = _known(await db.fetchrow(Q.document_facts, document.sender, replaced))
    row = await db.fetchrow(Q.document_lock, document.sender, document.document_id)
    earlier = None if row is None else Earlier(digest=row["digest"], message_id=row["message_id"])
    return DocumentFacts(earlier=earlier, named=named)


async def status_facts(db: DB, status: StatusPackage) -> StatusFacts:
    row = await db.fetchrow(
        Q.status_facts, status.document_sender, status.document_id, status.sender
    )
    return StatusFacts(
        document=_known(row),
        sent_to_author=bool(row and row["sent_to_author"]),
        open_request=row["open_request"] if row else None,
        last_answer=row["last_answer"] if row else None,
        current_status=row["current_status"] if row else None,
    )
