"""The rules of revokes, updates and replacements, as a pure judgement over the documents they
refer to (read under their locks by :mod:`hub.record.rules.facts`): each must name a document the
same sender sent, and address only agencies it was sent to (or, for an update, adds). Raises
:class:`~hub.errors.PackageRejected` (``REFERENCE_UNKNOWN``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from hub.check.decision import delivery_recipients
from hub.check.package import BusinessType, DocumentPackage
from hub.errors import Code, PackageRejected
from hub.record.rules.plan import Plan, new_document_plan
from hub.record.rules.statuses import KnownDocument


@dataclass(frozen=True, kw_only=True, slots=True)
class ChangeRuling:
    """What a revoke or update does, besides being recorded as a version of the document."""

    plan: Plan
    document_ref: int
    what: str
    """``revoke`` or ``update``."""
    ask_to_answer: tuple[str, ...]
    """Current recipients asked to answer 15/16."""


def _unknown(detail: str) -> PackageRejected:
    return PackageRejected(Code.REFERENCE_UNKNOWN, detail)


def target_of(document: DocumentPackage) -> str:
    """A revoke names the document in its own DocumentId; an update in Bussiness/DocumentId."""
    if document.business_type is BusinessType.UPDATE and document.referenced_document_id:
        return document.referenced_document_id
    return document.document_id


def judge_change(document: DocumentPackage, target: KnownDocument | None) -> ChangeRuling:
    """A revoke or an update of ``target`` (``None``: never sent by this sender)."""
    name = target_of(document)
    what = "revoke" if document.business_type is BusinessType.REVOKE else "update"
    if target is None:
        raise _unknown(f"the {what} names document {name!r}, which {document.sender} never sent")
    added = [c.organ_id for c in document.receiver_changes if c.added]
    allowed = set(target.recipients) | set(added)
    strangers = [r for r in document.recipients if r not in allowed]
    if strangers:
        raise _unknown(f"document {name!r} was never sent to {', '.join(strangers)}")
    if what == "revoke":
        if target.state == "revoked":
            detail = f"document {name} was already revoked; the revocation is sent again"
        else:
            detail = (
                f"revocation of {name} accepted for delivery to {', '.join(document.recipients)}"
            )
    else:
        targets = ", ".join(delivery_recipients(document))
        detail = f"update of {name} accepted for delivery to {targets}"
    return ChangeRuling(
        plan=Plan(
            deliver_to=delivery_recipients(document),
            kind="edoc",
            urgent=document.urgent or target.priority >= 3,
            document_ref=target.ref,
            detail=detail,
        ),
        document_ref=target.ref,
        what=what,
        ask_to_answer=tuple(r for r in document.recipients if r in target.recipients),
    )


def judge_replacement(
    document: DocumentPackage, replaced: Mapping[str, KnownDocument | None]
) -> tuple[int, ...]:
    """The documents a replacement replaces (by DocumentId, as the records know them)."""
    refs = []
    for replacement in document.replacements:
        known = replaced.get(replacement.document_id)
        if known is None:
            raise _unknown(
                f"the replacement names document {replacement.document_id!r}, which "
                f"{document.sender} never sent"
            )
        strangers = [o for o in replacement.organ_ids if o not in known.recipients]
        if strangers:
            raise _unknown(
                f"document {replacement.document_id!r} was never sent to {', '.join(strangers)}"
            )
        refs.append(known.ref)
    return tuple(dict.fromkeys(refs))


def replacement_plan(document: DocumentPackage) -> Plan:
    """As a new document's, but said to be a replacement."""
    plan = new_document_plan(document)
    return dataclasses.replace(plan, detail="replacement " + plan.detail)
