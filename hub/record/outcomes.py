"""What a decided submission writes, computed without the database: its ``package`` row, the
document it starts, its receipt's facts, its ``accepted``/``rejected`` link, its deliveries
(the recipients', then the receipt to the submitter) — an :class:`Outcome`, which
:func:`hub.record.store.write` inserts for one submission as for a batch. Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields

from hub.audit import chain, events
from hub.broker import names
from hub.check.decision import Checked, Rejection, Submission
from hub.check.package import DocumentPackage, StatusPackage
from hub.errors import Code
from hub.record import receipt
from hub.record.deliveries import Outbound, delivery_message_id
from hub.record.rules import Plan

REJECTED_BODY_LIMIT = 1024 * 1024
"""Rejected submissions keep their bytes up to this size (evidence); larger ones their digest."""


@dataclass(frozen=True, kw_only=True, slots=True)
class PackageRow:
    """A ``package`` row: one field per column, in ``outcomes_insert``'s order."""

    submitter: str
    message_id: str
    channel: str
    kind: str
    digest: bytes
    size_bytes: int
    body: bytes | None
    document_id: str | None
    sender: str | None
    business_doc_type: int | None
    priority: int | None
    status_code: str | None
    outcome: str
    code: str | None
    detail: str
    signer: bytes | None
    received_at: dt.datetime
    recipients: tuple[str, ...]
    received_lane: str

    def columns(self, *, staged: bool = False) -> tuple[object, ...]:
        """The values in column order, ``recipients`` joined with commas (``outcomes_insert``
        passes each column as one array, and PostgreSQL has no arrays of arrays). ``staged``:
        the body is not among them (it was copied in ahead: :func:`hub.record.store.write`)."""
        values: list[object] = []
        for column in fields(self):
            value = getattr(self, column.name)
            if column.name == "recipients":
                value = ",".join(value)
            elif column.name == "body" and staged:
                value = None
            values.append(value)
        return tuple(values)


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
) -> PackageRow:
    """The submission's ``package`` row (a rejected body over REJECTED_BODY_LIMIT: its digest)."""
    keep = code is None or len(submission.body) <= REJECTED_BODY_LIMIT
    return PackageRow(
        submitter=submission.submitter,
        message_id=submission.message_id,
        channel=submission.channel,
        kind=submission.kind.value,
        digest=submission.digest,
        size_bytes=len(submission.body),
        body=submission.body if keep else None,
        document_id=document_id,
        sender=sender,
        business_doc_type=int(document.business_type) if document else None,
        priority=document.priority if document else None,
        status_code=status.status_code if status else None,
        outcome="accepted" if code is None else "rejected",
        code=code.value if code else None,
        detail=detail,
        signer=signer,
        received_at=submission.received_at or now,
        recipients=tuple(recipients),
        received_lane=lane,
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class DocumentRow:
    """A ``document`` row a new document or replacement starts (its first version
    ``original`` and its recipients go with it)."""

    ref: int
    sender: str
    document_id: str
    priority: int
    subject: str | None
    recipients: tuple[str, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class DeliveryRow:
    """A ``delivery`` row: one recipient's copy, or the receipt to the submitter."""

    recipient: str
    kind: str
    message_id: str
    urgent: bool
    document_id: str | None
    routing_key: str
    """As planned, for the record; the publisher routes by the live registry."""
    addressed_to: str | None
    body: bytes
    """What is published (not a column: the package's body, or the receipt)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Outcome:
    """Everything one decided submission writes, ids given: what
    :func:`hub.record.store.write` inserts, for a batch as for one."""

    package_id: int
    package: PackageRow
    document_ref: int | None
    """``package.document_ref``: the document the package belongs to."""
    new_document: DocumentRow | None
    receipt: bytes
    deliveries: tuple[DeliveryRow, ...]
    link: events.Event
    """The ``accepted`` or ``rejected`` link."""
    sender: str | None
    """The package's From/OrganId: its receipt's ``x-recipient``."""

    def outbound(self, ids: Mapping[tuple[str, str], int]) -> tuple[Outbound, ...]:
        """The deliveries to publish, with the ids PostgreSQL gave them by (recipient, kind)."""
        return tuple(
            Outbound(
                delivery_id=ids[(d.recipient, d.kind)],
                package_id=self.package_id,
                recipient=d.recipient,
                kind=d.kind,
                message_id=d.message_id,
                urgent=d.urgent,
                document_id=d.document_id,
                body=d.body,
                digest=self.package.digest,
                for_agency=self.sender if d.kind == "receipt" else d.recipient,
                addressed_to=d.addressed_to,
            )
            for d in self.deliveries
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class Decided:
    """A submission's outcome before the database gives its ids: the package row, the
    receipt's facts, the plan (an empty one for a rejection), the link's payload."""

    submission: Submission
    package: PackageRow
    facts: receipt.ReceiptFacts
    plan: Plan
    event: dict[str, object]
    organ_id: str
    sender: str | None
    addressed: Mapping[str, str]
    document: DocumentPackage | None
    """The document the submission starts, if it starts one."""

    def outcome(self, receipt_xml: bytes, *, package_id: int, document_ref: int | None) -> Outcome:
        """``document_ref``: the id given to the new document (``plan.new_document``)."""
        deliveries = [(to, self.plan.kind, self.submission.body) for to in self.plan.deliver_to]
        deliveries.append((self.submission.submitter, "receipt", receipt_xml))
        urgent = self.plan.urgent
        new_document = None
        if self.plan.new_document:
            assert self.document is not None and document_ref is not None
            new_document = DocumentRow(
                ref=document_ref,
                sender=self.document.sender,
                document_id=self.document.document_id,
                priority=self.document.priority,
                subject=self.document.subject,
                recipients=self.document.recipients,
            )
        return Outcome(
            package_id=package_id,
            package=self.package,
            document_ref=document_ref if self.plan.new_document else self.plan.document_ref,
            new_document=new_document,
            receipt=receipt_xml,
            deliveries=tuple(
                DeliveryRow(
                    recipient=to,
                    kind=what,
                    message_id=delivery_message_id(package_id, what, to),
                    urgent=urgent,
                    document_id=self.facts.document_id,
                    routing_key=names.inbox_key(to, urgent=urgent),
                    addressed_to=None if what == "receipt" else self.addressed.get(to),
                    body=body,
                )
                for to, what, body in deliveries
            ),
            link=outcome_event(
                package_id, self.submission, self.facts, receipt_xml, self.event, self.organ_id
            ),
            sender=self.sender,
        )


NO_PLAN = Plan(deliver_to=(), kind="receipt", urgent=False, document_ref=None, detail="")
"""A rejection's: the receipt alone."""


def decided(
    submission: Submission,
    result: Checked | Rejection,
    plan: Plan | None,
    *,
    now: dt.datetime,
    lane: str,
) -> Decided:
    """``plan``: what the rules gave an accepted submission (``None`` for a rejection)."""
    if isinstance(result, Rejection):
        package, facts = rejection_parts(submission, result, now=now, lane=lane)
        return Decided(
            submission=submission,
            package=package,
            facts=facts,
            plan=NO_PLAN,
            event={"code": result.code.value},
            organ_id=submission.submitter,
            sender=result.sender,
            addressed={},
            document=None,
        )
    assert plan is not None
    facts = acceptance_facts(submission, result, plan, now=now)
    package = package_values(
        submission,
        code=None,
        detail=facts.detail,
        document_id=result.document_id,
        sender=result.sender,
        document=result.document,
        status=result.status,
        signer=result.signer_fingerprint,
        recipients=plan.deliver_to,
        now=now,
        lane=lane,
    )
    return Decided(
        submission=submission,
        package=package,
        facts=facts,
        plan=plan,
        event=acceptance_event(submission, result, plan),
        organ_id=result.sender,
        sender=result.sender,
        addressed=result.addressed.aliases,
        document=result.document,
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
) -> tuple[PackageRow, receipt.ReceiptFacts]:
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
