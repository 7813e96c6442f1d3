"""What a decided submission writes, computed without the database: its ``package`` row, its
receipt's facts, its ``accepted``/``rejected`` link, its deliveries (the recipients', then the
receipt to the submitter). :mod:`hub.record.records` and :mod:`hub.record.batch_records`
execute these. Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields

from hub.audit import chain, events
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
    """A ``package`` row as both write paths insert it (``package_insert`` one by one,
    ``batch_insert`` as arrays): one field per column, in the statements' order."""

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

    def columns(self, *, joined: bool = False) -> tuple[object, ...]:
        """The values in column order; ``recipients`` as a list (a ``text[]``), or ``joined``
        with commas (``batch_insert`` passes each row set as one array per column)."""
        values = []
        for column in fields(self):
            value = getattr(self, column.name)
            if column.name == "recipients":
                value = ",".join(value) if joined else list(value)
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
