"""The JSON the national SDK parses, built from the hub's records. Pure.

Every answer carries ``status`` (``OK`` / ``FAIL``), ``ErrorCode`` (``0`` when OK) and
``ErrorDesc``; the SDK reads the rest by these exact names (``KnobstickServiceImp`` and
``AgencyServiceImp``). Answers are ASCII (non-ASCII as ``\\uXXXX``): the SDK reads
``sendEdoc``'s answer as US-ASCII.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from hub.record import lifecycle

SERVICE_TYPE = "eDoc"
TIME = "%d/%m/%Y %H:%M:%S"
"""How times are written (in the SDK's zone, see :func:`hub.vxp.auth.zone_named`)."""

RECEIVED_STATES = {
    None: "pending",
    "processing": "processing",
    "fail": "fail",
}
RECEIVED_STATE_WORDS = {
    "pending": "waiting for the system to take it (getEdoc, then updateStatus done)",
    "processing": "the system said processing",
    "fail": "the system said fail: it stays listed until it says done",
}
SEND_STATES = {"published": "done", "pending": "pending", "dead": "fail"}


def encode(answer: Mapping[str, Any]) -> bytes:
    return json.dumps(answer, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def ok(desc: str = "Success", **extra: Any) -> dict[str, Any]:
    return {"status": "OK", "ErrorCode": "0", "ErrorDesc": desc, **extra}


def fail(code: str, desc: str, **extra: Any) -> dict[str, Any]:
    return {"status": "FAIL", "ErrorCode": code, "ErrorDesc": desc, **extra}


def when(value: dt.datetime | None, zone: dt.tzinfo) -> str:
    return "" if value is None else value.astimezone(zone).strftime(TIME)


def knobstick(row: Mapping[str, Any], zone: dt.tzinfo) -> dict[str, Any]:
    """One waiting message, as ``getReceivedEdocList`` lists it (``Knobstick``)."""
    state = RECEIVED_STATES.get(row["vxp_state"], "pending")
    return {
        "docId": row["message_id"],
        "serviceType": SERVICE_TYPE,
        "messageType": row["kind"],
        "created_time": when(row["decided_at"] or row["taken_at"], zone),
        "updated_time": when(row["vxp_state_at"] or row["taken_at"], zone),
        "from": row["sender"] or "",
        "to": row["recipient"] or "",
        "status": state,
        "status_desc": RECEIVED_STATE_WORDS[state],
        # lienthong's own additions (the SDK ignores them)
        "documentId": row["document_id"] or "",
        "urgent": bool(row["urgent"]),
    }


def sent(row: Mapping[str, Any], zone: dt.tzinfo) -> dict[str, Any]:
    """One (package, recipient) the system sent, as ``getSentEdocList`` lists it
    (``StatusResult``)."""
    if row["outcome"] == "rejected":
        send_status, send_desc = "fail", f"{row['code']}: {row['detail']}"
    else:
        send_status = SEND_STATES.get(row["state"], "pending")
        send_desc = {
            "done": "delivered to the recipient's inbox",
            "pending": "accepted; being delivered",
            "fail": "accepted; delivery failed: the hub's operators see it",
        }[send_status]
    code = row["status_code"]
    number, _, notation = (row["document_id"] or "").rpartition(",")[2].partition("/")
    return {
        "serviceType": SERVICE_TYPE,
        "messageType": row["kind"],
        "senderDocId": row["sender_doc_id"],
        "receiverDocId": row["receiver_doc_id"] or "",
        "fromCode": row["sender"] or "",
        "toCode": row["recipient"] or "",
        "title": row["subject"] or "",
        "notation": f"{number}/{notation}" if notation else number,
        "sentTime": when(row["decided_at"], zone),
        "receivedTime": when(row["received_at"], zone),
        "sendStatus": send_status,
        "sendStatusDesc": send_desc,
        "receiveStatus": code or "",
        "receiveStatusDesc": lifecycle.name(code) if code else "",
    }


def agency(row: Mapping[str, Any], *, qd20: bool = False) -> dict[str, Any]:
    """One directory entry (``Agency``; ``code102`` for ``getAgenciesListQD20``)."""
    found: dict[str, Any] = {
        "id": row["organ_id"],
        "code": row["organ_id"],
        "name": row["name"],
        "pid": row["parent_id"] or "",
        "mail": "",
    }
    if qd20:
        found["code102"] = row["organ_id"]
    else:
        found["oldCode"] = row["old_code"] or ""
    # lienthong's own additions
    found["systemId"] = row["system_id"]
    found["state"] = "closed" if row["successor_id"] else row["state"]
    if row["successor_id"]:
        found["successorId"] = row["successor_id"]
    return found


def unit(row: Mapping[str, Any], zone: dt.tzinfo) -> dict[str, Any]:
    """One directory entry as ``getSynchronizeUnit`` lists it (``UnitSynchronize``)."""
    return {
        "id": row["organ_id"],
        "code": row["organ_id"],
        "name": row["name"],
        "pid": row["parent_id"] or "",
        "mail": "",
        "version": int(row["updated_at"].timestamp()),
        "centerCode": row["system_id"],
        "deleted": bool(row["successor_id"]),
        "modifyDate": when(row["updated_at"], zone),
        "isAgency": True,
    }
