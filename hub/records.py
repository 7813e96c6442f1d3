"""Recording a submission's outcome in PostgreSQL, exactly once per (submitter, message_id).

One transaction records the package, applies the rules that need the records (duplicates,
references, status transitions), plans one delivery per recipient plus the submitter's
receipt, signs the receipt and appends the events. Publishing happens after the commit; a
delivery left ``pending`` by a crash is published by whoever next sees it (the redelivered
submission, or the sweeper).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg

from hub import chain, events, lifecycle, receipt
from hub.broker import names
from hub.db import DB, Q
from hub.decision import Checked, Rejection, Submission, delivery_recipients
from hub.errors import Code, PackageRejected
from hub.package import BusinessType, DocumentPackage, StatusPackage

REJECTED_BODY_LIMIT = 1024 * 1024
"""Rejected submissions keep their bytes up to this size (evidence); larger ones their digest."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Outbound:
    """One message to put into an inbox."""

    delivery_id: int
    package_id: int
    recipient: str
    kind: str
    message_id: str
    urgent: bool
    document_id: str | None
    body: bytes

    @property
    def routing_key(self) -> str:
        return names.inbox_key(self.recipient, urgent=self.urgent)

    @classmethod
    def from_row(cls, row: asyncpg.Record, package_id: int, body: bytes) -> Outbound:
        """A delivery as recorded (``deliveries_of_package`` or ``deliveries_stale``)."""
        return cls(
            delivery_id=row["id"],
            package_id=package_id,
            recipient=row["recipient"],
            kind=row["kind"],
            message_id=row["message_id"],
            urgent=row["urgent"],
            document_id=row["document_id"],
            body=body,
        )


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


def delivery_message_id(package_id: int, kind: str, recipient: str) -> str:
    """Fixed when the delivery is planned, so a redelivery carries the same id."""
    return f"lt-{package_id}-{kind}-{recipient}"


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


def package_values(
    submission: Submission,
    *,
    code: Code | None,
    detail: str,
    document_id: str | None,
    sender: str | None,
    document: DocumentPackage | None,
    status: StatusPackage | None,
    signer: bytes | None,
    recipients: tuple[str, ...],
    now: dt.datetime,
    lane: str,
) -> tuple[object, ...]:
    """A ``package`` row, in the column order of ``package_insert`` (and ``packages_insert``)."""
    keep = code is None or len(submission.body) <= REJECTED_BODY_LIMIT
    return (
        submission.submitter,
        submission.message_id,
        submission.channel,
        submission.kind.value,
        submission.digest,
        len(submission.body),
        submission.body if keep else None,
        document_id,
        sender,
        int(document.business_type) if document else None,
        document.priority if document else None,
        status.status_code if status else None,
        "accepted" if code is None else "rejected",
        code.value if code else None,
        detail,
        signer,
        submission.received_at or now,
        list(recipients),
        lane,
    )


async def _insert_package(db: DB, values: tuple[object, ...]) -> int:
    package_id: int = await db.fetchval(Q.package_insert, *values)
    return package_id


def planned_deliveries(
    package_id: int,
    submission: Submission,
    receipt_xml: bytes,
    *,
    kind: str,
    recipients: tuple[str, ...],
) -> list[tuple[str, str, str, bytes]]:
    """(recipient, kind, message_id, body) of each delivery: the recipients, then the receipt."""
    planned = [(recipient, kind, submission.body) for recipient in recipients]
    planned.append((submission.submitter, "receipt", receipt_xml))
    return [
        (to, what, delivery_message_id(package_id, what, to), body) for to, what, body in planned
    ]


def outbound_of(
    package_id: int,
    planned: list[tuple[str, str, str, bytes]],
    ids: dict[tuple[str, str], int],
    *,
    urgent: bool,
    document_id: str | None,
) -> tuple[Outbound, ...]:
    """The deliveries to publish, with the ids PostgreSQL gave them by (recipient, kind)."""
    return tuple(
        Outbound(
            delivery_id=ids[(recipient, what)],
            package_id=package_id,
            recipient=recipient,
            kind=what,
            message_id=message_id,
            urgent=urgent,
            document_id=document_id,
            body=body,
        )
        for recipient, what, message_id, body in planned
    )


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
) -> tuple[Outbound, ...]:
    planned = planned_deliveries(
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
    )
    ids = {(r["recipient"], r["kind"]): r["id"] for r in rows}
    return outbound_of(package_id, planned, ids, urgent=urgent, document_id=document_id)


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
        package_values(
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
        plan = await _apply_document(db, package_id, checked.document)
    else:
        assert checked.status is not None
        plan = await _apply_status(db, package_id, checked.status)
    await db.execute(
        Q.package_set_plan, package_id, plan.detail, list(plan.deliver_to), plan.document_ref
    )
    return await _conclude(
        db,
        package_id,
        submission,
        acceptance_facts(submission, checked, plan, now=now),
        signer,
        kind=plan.kind,
        urgent=plan.urgent,
        event=acceptance_event(submission, plan),
        organ_id=checked.sender,
    )


def acceptance_facts(
    submission: Submission, checked: Checked, plan: Plan, *, now: dt.datetime
) -> receipt.ReceiptFacts:
    return receipt.ReceiptFacts(
        message_id=submission.message_id,
        submitter=submission.submitter,
        kind=submission.kind.value,
        document_id=checked.document_id,
        code=None,
        detail=plan.detail,
        digest=submission.digest,
        timestamp=now,
        recipients=plan.deliver_to,
    )


def acceptance_event(submission: Submission, plan: Plan) -> dict[str, object]:
    return {"kind": submission.kind.value, "recipients": list(plan.deliver_to)}


def rejection_parts(
    submission: Submission, rejection: Rejection, *, now: dt.datetime, lane: str
) -> tuple[tuple[object, ...], receipt.ReceiptFacts]:
    """A rejected submission's ``package`` row and its receipt's facts."""
    values = package_values(
        submission,
        code=rejection.code,
        detail=rejection.detail,
        document_id=rejection.document_id,
        sender=rejection.sender,
        document=None,
        status=None,
        signer=None,
        recipients=(),
        now=now,
        lane=lane,
    )
    facts = receipt.ReceiptFacts(
        message_id=submission.message_id,
        submitter=submission.submitter,
        kind=submission.kind.value,
        document_id=rejection.document_id,
        code=rejection.code,
        detail=rejection.detail,
        digest=submission.digest,
        timestamp=now,
    )
    return values, facts


async def _reject(
    db: DB,
    submission: Submission,
    rejection: Rejection,
    *,
    signer: receipt.HubSigner,
    now: dt.datetime,
    lane: str,
) -> Recorded:
    values, facts = rejection_parts(submission, rejection, now=now, lane=lane)
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
    )


def outcome_event(
    package_id: int,
    submission: Submission,
    facts: receipt.ReceiptFacts,
    receipt_xml: bytes,
    event: dict[str, object],
    organ_id: str,
) -> events.Event:
    """The ``accepted`` or ``rejected`` link of a submission."""
    return events.Event(
        kind=facts.outcome,
        actor=submission.submitter,
        organ_id=organ_id,
        document_id=facts.document_id,
        payload={
            "package": package_id,
            "message_id": submission.message_id,
            "digest": submission.digest.hex(),
            "receipt": chain.sha256(receipt_xml).hex(),
            **event,
        },
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
    )
    await events.append_many(
        db, [outcome_event(package_id, submission, facts, receipt_xml, event, organ_id)]
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


# --- rules that need the records -------------------------------------------------------------


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


async def _apply_document(db: DB, package_id: int, document: DocumentPackage) -> Plan:
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


async def _apply_status(db: DB, package_id: int, status: StatusPackage) -> Plan:
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


async def mark_delivered(
    db: DB,
    published: list[Outbound],
    dead: list[tuple[Outbound, str]],
    *,
    deadline: dt.datetime | None = None,
) -> None:
    """After the broker confirmed: mark deliveries published (or dead), append the events.

    ``deadline`` is when the recipients' first status is due (the same-day rule); it applies to
    new and replacement documents only."""
    delivered = [
        events.Event(
            kind="delivered",
            actor="hub",
            organ_id=out.recipient,
            document_id=out.document_id,
            payload={"package": out.package_id, "kind": out.kind, "message_id": out.message_id},
        )
        for out in published
    ]
    if published and not dead:  # the common case: one statement, its own transaction
        await db.execute(
            Q.deliveries_mark_published_linked,
            [o.delivery_id for o in published],
            deadline,
            *events.arrays(events.links(delivered)),
        )
        return
    async with db.transaction():
        if published:
            await db.execute(
                Q.deliveries_mark_published, [o.delivery_id for o in published], deadline
            )
        for out, reason in dead:
            await db.execute(Q.delivery_mark_dead, out.delivery_id, reason)
        await events.append_many(db, delivered)


async def stale_deliveries(db: DB, *, older_than: float, limit: int) -> list[Outbound]:
    """Pending deliveries nobody is working on, locked (SKIP LOCKED) for this transaction."""
    rows = await db.fetch(Q.deliveries_stale, older_than, limit)
    bodies: dict[tuple[int, str], bytes] = {}
    outbound = []
    for row in rows:
        package_id = row["package_id"]
        what = "receipt" if row["kind"] == "receipt" else "body"
        if (package_id, what) not in bodies:
            query = Q.receipt_of_package if what == "receipt" else Q.package_body
            bodies[(package_id, what)] = await db.fetchval(query, package_id) or b""
        outbound.append(Outbound.from_row(row, package_id, bodies[(package_id, what)]))
    return outbound
