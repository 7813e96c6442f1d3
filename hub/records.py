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

from hub import chain, events, receipt, rules
from hub.broker import names
from hub.db import DB, Q
from hub.decision import Checked, Rejection, Submission
from hub.errors import Code, PackageRejected
from hub.package import DocumentPackage, StatusPackage
from hub.rules import Plan

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
    for_agency: str | None = None
    """``x-recipient``: the agency the message is for. For a package, the recipient; for a
    receipt, the submitting agency as the package names it (None if it was unreadable)."""
    addressed_to: str | None = None
    """``x-addressed-to``: the closed OrganId the package named, when it went to its successor."""

    @property
    def is_receipt(self) -> bool:
        """A receipt goes to the submitter's own inbox (``recipient`` is the system); anything
        else to the inbox of the system hosting ``recipient`` (the publisher routes it)."""
        return self.kind == "receipt"

    @classmethod
    def from_row(cls, row: asyncpg.Record, package_id: int, body: bytes) -> Outbound:
        """A delivery as recorded (``deliveries_of_package`` or ``deliveries_stale``)."""
        receipt = row["kind"] == "receipt"
        return cls(
            delivery_id=row["id"],
            package_id=package_id,
            recipient=row["recipient"],
            kind=row["kind"],
            message_id=row["message_id"],
            urgent=row["urgent"],
            document_id=row["document_id"],
            body=body,
            for_agency=row["package_sender"] if receipt else row["recipient"],
            addressed_to=row["addressed_to"],
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
    sender: str | None,
    addressed: Mapping[str, str] | None = None,
) -> tuple[Outbound, ...]:
    """The deliveries to publish, with the ids PostgreSQL gave them by (recipient, kind).
    ``sender``: the package's From/OrganId (its receipt's ``x-recipient``); ``addressed``:
    successor → the closed OrganId the package named."""
    addressed = addressed or {}
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
            for_agency=sender if what == "receipt" else recipient,
            addressed_to=None if what == "receipt" else addressed.get(recipient),
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
    sender: str | None,
    addressed: Mapping[str, str],
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
        [None if what == "receipt" else addressed.get(to) for to, what, _, _ in planned],
    )
    ids = {(r["recipient"], r["kind"]): r["id"] for r in rows}
    return outbound_of(
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
        plan = await rules.apply_document(db, package_id, checked.document)
    else:
        assert checked.status is not None
        plan = await rules.apply_status(db, package_id, checked.status)
    facts = acceptance_facts(submission, checked, plan, now=now)
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
        event=acceptance_event(submission, checked, plan),
        organ_id=checked.sender,
        sender=checked.sender,
        addressed=checked.addressed.aliases,
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
        detail=plan.detail + checked.addressed.note,
        digest=submission.digest,
        timestamp=now,
        recipients=plan.deliver_to,
        assurance=checked.assurance,
    )


def acceptance_event(submission: Submission, checked: Checked, plan: Plan) -> dict[str, object]:
    return {
        "kind": submission.kind.value,
        "recipients": list(plan.deliver_to),
        "assurance": checked.assurance,
    }


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
        sender=rejection.sender,
        addressed={},
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
