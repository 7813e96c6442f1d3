"""The status rules, as a pure judgement over the facts the records hold (read in one lookup
under the document's lock by :mod:`hub.record.rules.facts`): may this status be recorded, who gets
it, and what is written. Raises :class:`~hub.errors.PackageRejected` (``STATUS_INVALID``)."""

from __future__ import annotations

from dataclasses import dataclass

from hub.check.package import StatusPackage
from hub.errors import Code, PackageRejected
from hub.record import lifecycle
from hub.record.rules.plan import Plan


@dataclass(frozen=True, kw_only=True, slots=True)
class KnownDocument:
    """The document a status or change is about, as recorded."""

    ref: int
    state: str
    priority: int
    recipients: tuple[str, ...]
    """Its current recipients."""


@dataclass(frozen=True, kw_only=True, slots=True)
class StatusFacts:
    document: KnownDocument | None
    """``None``: the hub never carried that document."""
    sent_to_author: bool = False
    """Whether the document was (ever) sent to the status's author."""
    open_request: int | None = None
    """The author's revoke/update/take-back request still waiting for 15 or 16."""
    last_answer: str | None = None
    """The author's latest answer (15 or 16) to such a request."""
    current_status: str | None = None
    """The author's latest processing status (01 … 06)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class StatusRuling:
    plan: Plan
    record_for: tuple[str, ...] = ()
    """The recipients for whom the status is recorded (13: every current recipient; otherwise
    the author; empty for a repeat)."""
    take_back_from: tuple[str, ...] = ()
    """13: the recipients asked to answer 15/16."""
    answers_request: int | None = None
    """15/16: the request the status answers."""


def _invalid(detail: str) -> PackageRejected:
    return PackageRejected(Code.STATUS_INVALID, detail)


def judge(status: StatusPackage, facts: StatusFacts) -> StatusRuling:
    document = facts.document
    code, author = status.status_code, status.sender
    if document is None:
        raise _invalid(
            f"status {lifecycle.name(code)} concerns document {status.document_id!r} from "
            f"{status.document_sender}, which this hub never carried"
        )
    urgent = document.priority >= 3
    if code == lifecycle.TAKE_BACK:
        if author != status.document_sender:
            raise _invalid(
                f"only the sender ({status.document_sender}) may take back document "
                f"{status.document_id!r} (13)"
            )
        return StatusRuling(
            plan=Plan(
                deliver_to=document.recipients,
                kind="status",
                urgent=urgent,
                document_ref=document.ref,
                detail=f"take-back (13) of {status.document_id} forwarded to "
                f"{', '.join(document.recipients)}",
            ),
            record_for=document.recipients,
            take_back_from=document.recipients,
        )
    if code == lifecycle.REFUSE and not (status.description or "").strip():
        raise _invalid(
            f"a refusal (02) of document {status.document_id!r} needs its reason in Description"
        )
    if not facts.sent_to_author:
        raise _invalid(
            f"document {status.document_id!r} was not sent to {author}; only its recipients "
            "report its processing"
        )
    answers: int | None = None
    if code in lifecycle.ANSWERS:
        if facts.open_request is None:
            if facts.last_answer == code:
                return _repeat(status, document.ref, urgent)
            raise _invalid(
                f"status {lifecycle.name(code)} answers a revoke, update or take-back, but none "
                f"of document {status.document_id!r} is pending for {author}"
            )
        answers = facts.open_request
    else:
        verdict = lifecycle.processing_step(facts.current_status, code)
        if not verdict.legal:
            raise _invalid(
                f"document {status.document_id!r} at {author} is at "
                f"{lifecycle.name(facts.current_status)}; {lifecycle.name(code)} is not "
                f"allowed: {verdict.reason}"
            )
        if verdict.repeat:
            return _repeat(status, document.ref, urgent)
    return StatusRuling(
        plan=Plan(
            deliver_to=(status.document_sender,),
            kind="status",
            urgent=urgent,
            document_ref=document.ref,
            detail=f"status {lifecycle.name(code)} forwarded to {status.document_sender}",
        ),
        record_for=(author,),
        answers_request=answers,
    )


def _repeat(status: StatusPackage, document_ref: int, urgent: bool) -> StatusRuling:
    return StatusRuling(
        plan=Plan(
            deliver_to=(),
            kind="status",
            urgent=urgent,
            document_ref=document_ref,
            detail=f"status {lifecycle.name(status.status_code)} was already recorded; "
            "it is not forwarded again",
        )
    )
