"""The record stage's decision: an accepted submission's :class:`Plan` — or the
:class:`~hub.check.decision.Rejection` the rules give it — from the facts the records hold
(read in one lookup by :mod:`hub.record.rules.facts`). Pure: every rule is tested without
PostgreSQL (tests/test_rules.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from hub.check.decision import Checked, Rejection
from hub.check.package import BusinessType, DocumentPackage, StatusPackage
from hub.errors import Code, PackageRejected
from hub.record.rules.changes import judge_change, judge_replacement, replacement_plan, target_of
from hub.record.rules.plan import (
    AddVersion,
    AnswerRequest,
    AskToAnswer,
    ChangeRecipient,
    Effect,
    Plan,
    RecordStatus,
    SetState,
    new_document_plan,
)
from hub.record.rules.statuses import KnownDocument, StatusFacts, judge


@dataclass(frozen=True, kw_only=True, slots=True)
class Earlier:
    """The document its sender already sent under the same DocumentId."""

    digest: bytes
    """Its package's SHA-256."""
    message_id: str


@dataclass(frozen=True, kw_only=True, slots=True)
class DocumentFacts:
    """What a document's rules decide by."""

    earlier: Earlier | None = None
    """A new document or replacement: the sender's document with the same DocumentId."""
    named: Mapping[str, KnownDocument | None] = dataclasses.field(default_factory=dict)
    """A replacement, revoke or update: the documents it names, by DocumentId (``None``: the
    sender never sent it)."""


Facts = DocumentFacts | StatusFacts


def plan(checked: Checked, facts: Facts, *, digest: bytes) -> Plan | Rejection:
    """What an accepted submission is given, or why the records refuse it."""
    try:
        if checked.document is not None:
            assert isinstance(facts, DocumentFacts)
            return plan_document(checked.document, facts, digest=digest)
        assert checked.status is not None and isinstance(facts, StatusFacts)
        return plan_status(checked.status, facts)
    except PackageRejected as exc:
        return Rejection(
            code=exc.code,
            detail=exc.detail,
            document_id=checked.document_id,
            sender=checked.sender,
        )


def _duplicate(document: DocumentPackage, earlier: Earlier) -> PackageRejected:
    return PackageRejected(
        Code.DUPLICATE_DOCUMENT,
        f"DocumentId {document.document_id!r} was already used by {document.sender} for "
        f"another document (message {earlier.message_id}); a new document needs a "
        "new DocumentId (to change a sent document, send an update or a replacement)",
    )


def plan_document(document: DocumentPackage, facts: DocumentFacts, *, digest: bytes) -> Plan:
    """A new document, a replacement, a revoke or an update. Raises
    :class:`~hub.errors.PackageRejected`."""
    kind = document.business_type
    if kind is BusinessType.NEW:
        if facts.earlier is None:
            return new_document_plan(document)
        if facts.earlier.digest != digest:
            raise _duplicate(document, facts.earlier)
        return Plan(
            deliver_to=(),
            kind="edoc",
            urgent=document.urgent,
            document_ref=None,
            detail=f"document {document.document_id} was already accepted with the same "
            "content; it is not delivered again",
        )

    if kind is BusinessType.REPLACE:
        replaced = judge_replacement(document, facts.named)
        if facts.earlier is not None:
            raise PackageRejected(
                Code.DUPLICATE_DOCUMENT,
                f"the replacement's DocumentId {document.document_id!r} is already in use",
            )
        effects: list[Effect] = []
        for old in replaced:
            effects += [SetState(document_ref=old, state="replaced")]
            effects += [AddVersion(document_ref=old, relation="replaced-by")]
        return dataclasses.replace(replacement_plan(document), effects=tuple(effects))

    ruling = judge_change(document, facts.named.get(target_of(document)))
    ref = ruling.document_ref
    changes: list[Effect] = []
    if ruling.what == "revoke":
        changes.append(SetState(document_ref=ref, state="revoked"))
    else:
        changes += [
            ChangeRecipient(document_ref=ref, organ_id=c.organ_id, added=c.added)
            for c in document.receiver_changes
        ]
    changes.append(AddVersion(document_ref=ref, relation=ruling.what))
    changes += [
        AskToAnswer(document_ref=ref, recipient=r, kind=ruling.what) for r in ruling.ask_to_answer
    ]
    return dataclasses.replace(ruling.plan, effects=tuple(changes))


def plan_status(status: StatusPackage, facts: StatusFacts) -> Plan:
    """A status (01 … 06, 13, 15, 16). Raises :class:`~hub.errors.PackageRejected`."""
    ruling = judge(status, facts)
    ref = ruling.plan.document_ref
    assert ref is not None
    effects: list[Effect] = [
        AskToAnswer(document_ref=ref, recipient=r, kind="take-back") for r in ruling.take_back_from
    ]
    if ruling.answers_request is not None:
        effects.append(AnswerRequest(request_id=ruling.answers_request, answer=status.status_code))
    effects += [
        RecordStatus(document_ref=ref, recipient=r, status=status) for r in ruling.record_for
    ]
    return dataclasses.replace(ruling.plan, effects=tuple(effects))
