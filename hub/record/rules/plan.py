"""What an accepted submission is given — who gets it, whether it is urgent, what its receipt
says — and what else its acceptance writes (:class:`Effect`). Pure."""

from __future__ import annotations

from dataclasses import dataclass

from hub.check.package import DocumentPackage, StatusPackage


@dataclass(frozen=True, kw_only=True, slots=True)
class SetState:
    """The document becomes ``revoked`` or ``replaced``."""

    document_ref: int
    state: str


@dataclass(frozen=True, kw_only=True, slots=True)
class AddVersion:
    """The submission is recorded as a version of the document (``revoke``, ``update``,
    ``replaced-by``)."""

    document_ref: int
    relation: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ChangeRecipient:
    """An update adds a recipient to the document, or takes one off."""

    document_ref: int
    organ_id: str
    added: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class AskToAnswer:
    """A recipient is asked to answer 15/16 (a request still open is superseded)."""

    document_ref: int
    recipient: str
    kind: str
    """``revoke``, ``update`` or ``take-back``."""


@dataclass(frozen=True, kw_only=True, slots=True)
class AnswerRequest:
    """A 15/16 answers the author's open request."""

    request_id: int
    answer: str


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordStatus:
    """The status is recorded for the (document, recipient) pair."""

    document_ref: int
    recipient: str
    status: StatusPackage


Effect = SetState | AddVersion | ChangeRecipient | AskToAnswer | AnswerRequest | RecordStatus
"""A row an acceptance writes besides its own package, receipt, deliveries and link
(:func:`hub.record.store.apply` writes them, in order)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Plan:
    deliver_to: tuple[str, ...]
    kind: str
    urgent: bool
    document_ref: int | None
    """The document the submission belongs to (``None`` for a new one: the store gives it its
    id; also ``None`` for a new document already accepted with the same content)."""
    detail: str
    new_document: bool = False
    """The submission starts a document (a new one, or a replacement)."""
    effects: tuple[Effect, ...] = ()


def new_document_plan(document: DocumentPackage) -> Plan:
    """What a new document (BussinessDocType 0) seen for the first time is given."""
    return Plan(
        deliver_to=document.recipients,
        kind="edoc",
        urgent=document.urgent,
        document_ref=None,
        detail=f"accepted for delivery to {', '.join(document.recipients)}",
        new_document=True,
    )
