"""A document's whole history, for its sender, its recipients and operators.

Submitted, accepted or rejected (with the code), delivered per recipient, each status with its
time and author, revocations, updates and replacements with their answers, overdue flags —
in time order, plus where each recipient stands now.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from hub.check.decision import assurance_of
from hub.db import DB, Q
from hub.record import lifecycle

BUSINESS = {0: "new", 1: "revoke", 2: "update", 3: "replace"}


@dataclass(frozen=True, kw_only=True, slots=True)
class Viewer:
    """Who asks: a system (sees the documents of the agencies it hosts; in version 1 the agency
    itself) or an operator (sees everything)."""

    system: str | None
    operator: str | None = None


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def visible(db: DB, viewer: Viewer, document: Any) -> bool:
    if viewer.operator is not None:
        return True
    if viewer.system is None:
        return False
    return bool(
        await db.fetchval(Q.timeline_visible, document["id"], document["sender"], viewer.system)
    )


async def timeline(db: DB, document_id: str, viewer: Viewer) -> dict[str, Any] | None:
    """``None`` when nothing by that id is visible to the viewer (as for an unknown id)."""
    documents = []
    for document in await db.fetch(Q.timeline_documents, document_id):
        if await visible(db, viewer, document):
            documents.append(await _one(db, document, viewer))
    if not documents:
        return None
    return {"document_id": document_id, "documents": documents}


def _shows(p: Any, viewer: Viewer) -> bool:
    """An accepted submission is part of the document; a rejected one only *names* it (its
    From and DocumentId are what the package claimed, unverified), so it is shown to the
    system that submitted it and to operators, never to the agency it claimed to be from."""
    if p["outcome"] == "accepted":
        return True
    return viewer.operator is not None or p["submitter"] == viewer.system


async def _one(db: DB, document: Any, viewer: Viewer) -> dict[str, Any]:
    ref = document["id"]
    events: list[dict[str, Any]] = []
    for p in await db.fetch(Q.timeline_packages, ref, document["document_id"], document["sender"]):
        if not _shows(p, viewer):
            continue
        entry: dict[str, Any] = {
            "at": _iso(p["decided_at"]),
            "event": p["outcome"],
            "kind": p["kind"],
            "by": p["submitter"],
            "message_id": p["message_id"],
            "document_id": p["document_id"],
            "detail": p["detail"],
        }
        if p["outcome"] == "rejected":
            # what the refused package said of itself: a claim, labelled as one
            entry["claimed"] = {"sender": p["sender"], "document_id": p["document_id"]}
        if p["kind"] == "edoc" and p["business_doc_type"] is not None:
            entry["business_type"] = BUSINESS.get(
                p["business_doc_type"], str(p["business_doc_type"])
            )
        if p["status_code"]:
            entry["status_code"] = p["status_code"]
        if p["code"]:
            entry["code"] = p["code"]
        if p["outcome"] == "accepted" and p["recipients"]:
            entry["to"] = list(p["recipients"])
        if p["outcome"] == "accepted":
            entry["assurance"] = assurance_of(signed=p["signed"])
            entry["channel"] = p["channel"]
        events.append(entry)
    recipients: dict[str, dict[str, Any]] = {}
    for r in await db.fetch(Q.timeline_recipients, ref):
        recipients[r["recipient"]] = {
            "organ_id": r["recipient"],
            "current": r["current"],
            "delivered_at": None,
            "deadline": None,
            "overdue": False,
            "status": None,
            "statuses": [],
            "pending_change": None,
        }
    for d in await db.fetch(Q.timeline_deliveries, ref):
        if d["published_at"] is not None:
            delivered: dict[str, Any] = {
                "at": _iso(d["published_at"]),
                "event": "delivered",
                "kind": d["kind"],
                "to": d["recipient"],
            }
            if d["addressed_to"] is not None:  # the closed OrganId the package named
                delivered["addressed_to"] = d["addressed_to"]
            events.append(delivered)
        slot = recipients.get(d["recipient"])
        if slot is not None and d["deadline_at"] is not None and slot["delivered_at"] is None:
            slot["delivered_at"] = _iso(d["published_at"])
            slot["deadline"] = _iso(d["deadline_at"])
        if d["overdue_at"] is not None:
            events.append({"at": _iso(d["overdue_at"]), "event": "overdue", "to": d["recipient"]})
            if slot is not None:
                slot["overdue"] = True
    for s in await db.fetch(Q.timeline_statuses, ref):
        code = s["status_code"]
        events.append(
            {
                "at": _iso(s["recorded_at"]),
                "event": "status",
                "status_code": code,
                "status": lifecycle.name(code),
                "by": s["author"],
                "recipient": s["recipient"],
                "description": s["description"],
                "staff": s["staff"],
                "stated_at": s["stated_at"],
            }
        )
        slot = recipients.get(s["recipient"])
        if slot is not None:
            slot["statuses"].append(code)
            slot["overdue"] = False  # a status answers the same-day rule
            if code in lifecycle.PROGRESS or code == lifecycle.REFUSE:
                slot["status"] = code
    for c in await db.fetch(Q.timeline_changes, ref):
        slot = recipients.get(c["recipient"])
        if slot is not None:
            open_request = c["answer"] is None and c["superseded_by"] is None
            slot["pending_change"] = c["kind"] if open_request else None
    versions = [
        {
            "relation": v["relation"],
            "at": _iso(v["recorded_at"]),
            "message_id": v["message_id"],
            "document_id": v["document_id"],
        }
        for v in await db.fetch(Q.timeline_versions, ref)
    ]
    events.sort(key=lambda e: e["at"] or "")
    return {
        "sender": document["sender"],
        "document_id": document["document_id"],
        "subject": document["subject"],
        "priority": document["priority"],
        "state": document["state"],
        "created_at": _iso(document["created_at"]),
        "recipients": list(recipients.values()),
        "versions": versions,
        "events": events,
    }
