"""What an accepted submission is given: who gets it, whether it is urgent, what its receipt
says. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from hub.check.package import DocumentPackage


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
