"""The rules applied inside a submission's transaction: the facts read in one lookup under the
document's lock, judged by the pure rules (:mod:`hub.record.rules.statuses`,
:mod:`hub.record.rules.changes`), and what they decide written. A refusal raises
:class:`~hub.errors.PackageRejected`; :mod:`hub.record.records` records it as a rejection."""

from __future__ import annotations

import asyncpg

from hub.check.package import BusinessType, DocumentPackage, StatusPackage
from hub.db import DB, Q
from hub.errors import Code, PackageRejected
from hub.record.rules.changes import judge_change, judge_replacement, replacement_plan, target_of
from hub.record.rules.plan import Plan, new_document_plan
from hub.record.rules.statuses import KnownDocument, StatusFacts, judge


def _known(row: asyncpg.Record | None) -> KnownDocument | None:
    if row is None:
        return None
    return KnownDocument(
        ref=int(row["id"]),
        state=row["state"],
        priority=row["priority"] or 0,
        recipients=tuple(row["recipients"]),
    )


async def _document(db: DB, sender: str, document_id: str) -> KnownDocument | None:
    """The document and its current recipients, locked for this transaction."""
    return _known(await db.fetchrow(Q.document_facts, sender, document_id))


async def _new_document(db: DB, package_id: int, document: DocumentPackage) -> int | None:
    """Insert the document; ``None`` when the same content was already accepted."""
    document_ref = await db.fetchval(
        Q.document_insert,
        document.sender,
        document.document_id,
        package_id,
        document.priority,
        document.subject,
        list(document.recipients),
    )
    if document_ref is None:
        earlier = await db.fetchrow(Q.document_lock, document.sender, document.document_id)
        assert earlier is not None
        digest = await db.fetchval(Q.package_digest, package_id)
        if earlier["digest"] != digest:
            raise PackageRejected(
                Code.DUPLICATE_DOCUMENT,
                f"DocumentId {document.document_id!r} was already used by {document.sender} for "
                f"another document (message {earlier['message_id']}); a new document needs a "
                "new DocumentId (to change a sent document, send an update or a replacement)",
            )
        return None
    return int(document_ref)


async def apply_document(db: DB, package_id: int, document: DocumentPackage) -> Plan:
    kind = document.business_type
    if kind is BusinessType.NEW:
        document_ref = await _new_document(db, package_id, document)
        if document_ref is None:
            return Plan(
                deliver_to=(),
                kind="edoc",
                urgent=document.urgent,
                document_ref=None,
                detail=f"document {document.document_id} was already accepted with the same "
                "content; it is not delivered again",
            )
        return new_document_plan(document, document_ref)

    if kind is BusinessType.REPLACE:
        named = dict.fromkeys(r.document_id for r in document.replacements)
        replaced = judge_replacement(
            document, {name: await _document(db, document.sender, name) for name in named}
        )
        document_ref = await _new_document(db, package_id, document)
        if document_ref is None:
            raise PackageRejected(
                Code.DUPLICATE_DOCUMENT,
                f"the replacement's DocumentId {document.document_id!r} is already in use",
            )
        for old in replaced:
            await db.execute(Q.document_set_state, old, "replaced")
            await db.execute(Q.document_version_insert, old, package_id, "replaced-by")
        return replacement_plan(document, document_ref)

    ruling = judge_change(document, await _document(db, document.sender, target_of(document)))
    if ruling.what == "revoke":
        await db.execute(Q.document_set_state, ruling.document_ref, "revoked")
    else:
        for change in document.receiver_changes:
            query = Q.document_recipient_add if change.added else Q.document_recipient_remove
            await db.execute(query, ruling.document_ref, change.organ_id, package_id)
    await db.execute(Q.document_version_insert, ruling.document_ref, package_id, ruling.what)
    for recipient in ruling.ask_to_answer:
        await _request_change(db, ruling.document_ref, recipient, package_id, ruling.what)
    return ruling.plan


async def _request_change(
    db: DB, document_ref: int, recipient: str, package_id: int, kind: str
) -> None:
    """Ask a recipient to answer 15/16; a request still open is superseded by this one."""
    await db.execute(Q.change_request_supersede, document_ref, recipient, package_id)
    await db.execute(Q.change_request_insert, document_ref, recipient, package_id, kind)


async def apply_status(db: DB, package_id: int, status: StatusPackage) -> Plan:
    row = await db.fetchrow(
        Q.status_facts, status.document_sender, status.document_id, status.sender
    )
    facts = StatusFacts(
        document=_known(row),
        sent_to_author=bool(row and row["sent_to_author"]),
        open_request=row["open_request"] if row else None,
        last_answer=row["last_answer"] if row else None,
        current_status=row["current_status"] if row else None,
    )
    ruling = judge(status, facts)
    assert ruling.plan.document_ref is not None
    document_ref = ruling.plan.document_ref
    for recipient in ruling.take_back_from:
        await _request_change(db, document_ref, recipient, package_id, "take-back")
    if ruling.answers_request is not None:
        await db.execute(
            Q.change_request_answer, ruling.answers_request, status.status_code, package_id
        )
    for recipient in ruling.record_for:
        await db.execute(
            Q.status_insert,
            document_ref,
            package_id,
            status.sender,
            recipient,
            status.status_code,
            status.description,
            status.staff,
            status.timestamp,
        )
    return ruling.plan
