"""The rules that need the records, applied inside a submission's transaction: duplicate
DocumentIds, what a revoke, update or replacement refers to, and status transitions.

Each returns the :class:`Plan` for the submission (who gets it, what its receipt says) or
raises :class:`~hub.errors.PackageRejected` with the contract's code; :mod:`hub.records`
records a refusal as a rejection.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from hub import lifecycle
from hub.db import DB, Q
from hub.decision import delivery_recipients
from hub.errors import Code, PackageRejected
from hub.package import BusinessType, DocumentPackage, StatusPackage


@dataclass(frozen=True, kw_only=True, slots=True)
class Plan:
    deliver_to: tuple[str, ...]
    kind: str
    urgent: bool
    document_ref: int | None
    detail: str


def new_document_plan(document: DocumentPackage, document_ref: int | None) -> Plan:
    """What a new document (BussinessDocType 0) seen for the first time is given."""
    return Plan(
        deliver_to=document.recipients,
        kind="edoc",
        urgent=document.urgent,
        document_ref=document_ref,
        detail=f"accepted for delivery to {', '.join(document.recipients)}",
    )


def _unknown(detail: str) -> PackageRejected:
    return PackageRejected(Code.REFERENCE_UNKNOWN, detail)


async def _locked_document(db: DB, sender: str, document_id: str) -> asyncpg.Record | None:
    return await db.fetchrow(Q.document_lock, sender, document_id)


async def _current_recipients(db: DB, document_ref: int) -> list[str]:
    return [r["recipient"] for r in await db.fetch(Q.document_recipients_current, document_ref)]


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
        earlier = await _locked_document(db, document.sender, document.document_id)
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
        replaced = []
        for replacement in document.replacements:
            row = await _locked_document(db, document.sender, replacement.document_id)
            if row is None:
                raise _unknown(
                    f"the replacement names document {replacement.document_id!r}, which "
                    f"{document.sender} never sent"
                )
            current = await _current_recipients(db, row["id"])
            strangers = [o for o in replacement.organ_ids if o not in current]
            if strangers:
                raise _unknown(
                    f"document {replacement.document_id!r} was never sent to {', '.join(strangers)}"
                )
            replaced.append(int(row["id"]))
        document_ref = await _new_document(db, package_id, document)
        if document_ref is None:
            raise PackageRejected(
                Code.DUPLICATE_DOCUMENT,
                f"the replacement's DocumentId {document.document_id!r} is already in use",
            )
        for old in dict.fromkeys(replaced):
            await db.execute(Q.document_set_state, old, "replaced")
            await db.execute(Q.document_version_insert, old, package_id, "replaced-by")
        return Plan(
            deliver_to=document.recipients,
            kind="edoc",
            urgent=document.urgent,
            document_ref=document_ref,
            detail=f"replacement accepted for delivery to {', '.join(document.recipients)}",
        )

    # revoke names the document in its own DocumentId; update in Bussiness/DocumentId
    target = document.document_id
    if kind is BusinessType.UPDATE and document.referenced_document_id:
        target = document.referenced_document_id
    row = await _locked_document(db, document.sender, target)
    what = "revoke" if kind is BusinessType.REVOKE else "update"
    if row is None:
        raise _unknown(f"the {what} names document {target!r}, which {document.sender} never sent")
    document_ref = int(row["id"])
    current = await _current_recipients(db, document_ref)
    added = [c.organ_id for c in document.receiver_changes if c.added]
    allowed = set(current) | set(added)
    strangers = [r for r in document.recipients if r not in allowed]
    if strangers:
        raise _unknown(f"document {target!r} was never sent to {', '.join(strangers)}")
    if kind is BusinessType.REVOKE:
        if row["state"] == "revoked":
            detail = f"document {target} was already revoked; the revocation is sent again"
        else:
            detail = (
                f"revocation of {target} accepted for delivery to {', '.join(document.recipients)}"
            )
        await db.execute(Q.document_set_state, document_ref, "revoked")
    else:
        for change in document.receiver_changes:
            if change.added:
                await db.execute(
                    Q.document_recipient_add, document_ref, change.organ_id, package_id
                )
            else:
                await db.execute(
                    Q.document_recipient_remove, document_ref, change.organ_id, package_id
                )
        targets = ", ".join(delivery_recipients(document))
        detail = f"update of {target} accepted for delivery to {targets}"
    await db.execute(Q.document_version_insert, document_ref, package_id, what)
    for recipient in document.recipients:
        if recipient in current:
            await _request_change(db, document_ref, recipient, package_id, what)
    return Plan(
        deliver_to=delivery_recipients(document),
        kind="edoc",
        urgent=document.urgent or (row["priority"] or 0) >= 3,
        document_ref=document_ref,
        detail=detail,
    )


async def _request_change(
    db: DB, document_ref: int, recipient: str, package_id: int, kind: str
) -> None:
    """Ask a recipient to answer 15/16; a request still open is superseded by this one."""
    await db.execute(Q.change_request_supersede, document_ref, recipient, package_id)
    await db.execute(Q.change_request_insert, document_ref, recipient, package_id, kind)


def _invalid(detail: str) -> PackageRejected:
    return PackageRejected(Code.STATUS_INVALID, detail)


async def apply_status(db: DB, package_id: int, status: StatusPackage) -> Plan:
    row = await _locked_document(db, status.document_sender, status.document_id)
    if row is None:
        raise _invalid(
            f"status {lifecycle.name(status.status_code)} concerns document "
            f"{status.document_id!r} from {status.document_sender}, which this hub never carried"
        )
    document_ref = int(row["id"])
    urgent = (row["priority"] or 0) >= 3
    code = status.status_code
    author = status.sender
    if code == lifecycle.TAKE_BACK:
        if author != status.document_sender:
            raise _invalid(
                f"only the sender ({status.document_sender}) may take back document "
                f"{status.document_id!r} (13)"
            )
        recipients = await _current_recipients(db, document_ref)
        for recipient in recipients:
            await _request_change(db, document_ref, recipient, package_id, "take-back")
            await db.execute(
                Q.status_insert,
                document_ref,
                package_id,
                author,
                recipient,
                code,
                status.description,
                status.staff,
                status.timestamp,
            )
        return Plan(
            deliver_to=tuple(recipients),
            kind="status",
            urgent=urgent,
            document_ref=document_ref,
            detail=f"take-back (13) of {status.document_id} forwarded to {', '.join(recipients)}",
        )
    if code == lifecycle.REFUSE and not (status.description or "").strip():
        raise _invalid(
            f"a refusal (02) of document {status.document_id!r} needs its reason in Description"
        )
    if not await db.fetchval(Q.document_was_sent_to, document_ref, author):
        raise _invalid(
            f"document {status.document_id!r} was not sent to {author}; only its recipients "
            "report its processing"
        )
    if code in lifecycle.ANSWERS:
        request = await db.fetchrow(Q.change_request_open, document_ref, author)
        if request is None:
            last = await db.fetchval(Q.change_request_last_answer, document_ref, author)
            if last == code:
                return _repeat(status, document_ref, urgent)
            raise _invalid(
                f"status {lifecycle.name(code)} answers a revoke, update or take-back, but none "
                f"of document {status.document_id!r} is pending for {author}"
            )
        await db.execute(Q.change_request_answer, request["id"], code, package_id)
    else:
        current = await db.fetchval(Q.status_current, document_ref, author)
        verdict = lifecycle.processing_step(current, code)
        if not verdict.legal:
            raise _invalid(
                f"document {status.document_id!r} at {author} is at {lifecycle.name(current)}; "
                f"{lifecycle.name(code)} is not allowed: {verdict.reason}"
            )
        if verdict.repeat:
            return _repeat(status, document_ref, urgent)
    await db.execute(
        Q.status_insert,
        document_ref,
        package_id,
        author,
        author,
        code,
        status.description,
        status.staff,
        status.timestamp,
    )
    return Plan(
        deliver_to=(status.document_sender,),
        kind="status",
        urgent=urgent,
        document_ref=document_ref,
        detail=f"status {lifecycle.name(code)} forwarded to {status.document_sender}",
    )


def _repeat(status: StatusPackage, document_ref: int, urgent: bool) -> Plan:
    return Plan(
        deliver_to=(),
        kind="status",
        urgent=urgent,
        document_ref=document_ref,
        detail=f"status {lifecycle.name(status.status_code)} was already recorded; "
        "it is not forwarded again",
    )
