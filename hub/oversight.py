"""What operators see and do: figures for the dashboard, searches, agencies, admin actions.

Reads PostgreSQL and RabbitMQ's management API; every admin action is appended to the hub's
hash chain (who, what, when) and listed by :func:`actions`.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from hub import metrics
from hub.audit import events
from hub.broker import names
from hub.broker.management import Management
from hub.config import Settings
from hub.db import DB, Q
from hub.registry import pki, revocation

log = structlog.get_logger(__name__)


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def record_action(
    db: DB, operator: str, action: str, *, target: str | None = None, **detail: object
) -> None:
    await events.append(
        db,
        kind=f"admin.{action}",
        actor=operator,
        payload={"target": target, **detail},
    )


async def actions(db: DB, limit: int = 50) -> list[dict[str, Any]]:
    return [
        {
            "at": iso(r["created_at"]),
            "operator": r["actor"],
            "action": r["kind"].removeprefix("admin."),
            **{k: v for k, v in json.loads(r["payload"]).items() if v is not None},
        }
        for r in await db.fetch(Q.ops_actions, limit)
    ]


# --- queues -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class QueueFigures:
    name: str
    agency: str | None
    ready: int
    unacked: int
    consumers: int
    publish_rate: float
    deliver_rate: float
    oldest_age_seconds: float | None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "agency": self.agency,
            "ready": self.ready,
            "unacked": self.unacked,
            "consumers": self.consumers,
            "publish_rate": self.publish_rate,
            "deliver_rate": self.deliver_rate,
            "oldest_age_seconds": self.oldest_age_seconds,
        }


def _agency_of(queue: str) -> str | None:
    prefix = "lienthong.inbox."
    if not queue.startswith(prefix):
        return None
    return queue[len(prefix) :].removesuffix(".urgent")


def _rate(stats: Mapping[str, Any], key: str) -> float:
    details = stats.get(f"{key}_details") or {}
    return float(details.get("rate") or 0.0)


def queue_figures(raw: Sequence[Mapping[str, Any]], now: float) -> list[QueueFigures]:
    found = []
    for q in raw:
        name = str(q.get("name", ""))
        if not name.startswith("lienthong."):
            continue
        stats = q.get("message_stats") or {}
        head = q.get("head_message_timestamp")
        found.append(
            QueueFigures(
                name=name,
                agency=_agency_of(name),
                ready=int(q.get("messages_ready") or 0),
                unacked=int(q.get("messages_unacknowledged") or 0),
                consumers=int(q.get("consumers") or 0),
                publish_rate=_rate(stats, "publish"),
                deliver_rate=_rate(stats, "deliver_get"),
                oldest_age_seconds=max(0.0, now - float(head)) if head else None,
            )
        )
    return sorted(found, key=lambda f: (f.agency is not None, f.name))


async def queues(settings: Settings) -> list[QueueFigures]:
    async with Management(settings.amqp) as api:
        raw = await api.queues(settings.amqp.vhost)
    figures = queue_figures(raw, dt.datetime.now(dt.UTC).timestamp())
    depth: dict[str, int] = {}
    for f in figures:
        if f.agency is not None:
            depth[f.agency] = depth.get(f.agency, 0) + f.ready + f.unacked
    metrics.INBOX_DEPTH.replace({(agency,): n for agency, n in depth.items()})
    dead = next((f for f in figures if f.name == names.DEAD_QUEUE), None)
    if dead is not None:
        metrics.DEAD_LETTER_DEPTH.set(dead.ready + dead.unacked)
    return figures


class QueueWatch:
    """Keeps the per-agency inbox depth and dead-letter gauges current."""

    def __init__(self, settings: Settings, *, every: float = 15.0) -> None:
        self._settings = settings
        self._every = every

    async def run(self) -> None:
        while True:
            try:
                await queues(self._settings)
            except Exception as exc:
                log.warning("queue_watch_failed", error=repr(exc))
            await asyncio.sleep(self._every)


# --- overview ---------------------------------------------------------------------------------


async def overview(db: DB, settings: Settings) -> dict[str, Any]:
    now = pki.utcnow()
    throughput = [
        {"minute": iso(r["minute"]), "accepted": r["accepted"], "rejected": r["rejected"]}
        for r in await db.fetch(Q.ops_throughput, 60)
    ]
    latency = [
        {
            "minute": iso(r["minute"]),
            "deliveries": r["deliveries"],
            "p50_ms": round(float(r["p50_ms"]), 1),
            "p95_ms": round(float(r["p95_ms"]), 1),
        }
        for r in await db.fetch(Q.ops_latency, 60)
    ]
    rejections: dict[str, int] = {}
    for r in await db.fetch(Q.ops_rejections, 24):
        rejections[r["code"] or "?"] = rejections.get(r["code"] or "?", 0) + r["n"]
    pending = {r["recipient"]: r["pending"] for r in await db.fetch(Q.ops_pending_per_agency)}
    try:
        figures = await queues(settings)
        broker_error = None
    except Exception as exc:  # the dashboard still shows what PostgreSQL knows
        figures, broker_error = [], str(exc)
    backlog: dict[str, dict[str, Any]] = {}

    def slot(agency: str) -> dict[str, Any]:
        return backlog.setdefault(
            agency, {"agency": agency, "waiting": 0, "oldest_age_seconds": None}
        )

    for f in figures:
        if f.agency is None:
            continue
        entry = slot(f.agency)
        entry["waiting"] += f.ready + f.unacked
        if f.oldest_age_seconds is not None:
            entry["oldest_age_seconds"] = max(
                entry["oldest_age_seconds"] or 0, f.oldest_age_seconds
            )
    for agency, n in pending.items():
        slot(agency)["pending_in_hub"] = n
    for r in await db.fetch(Q.ops_unanswered_per_agency):
        entry = slot(r["recipient"])
        entry["unanswered"] = r["unanswered"]
        entry["oldest_unanswered_seconds"] = (now - r["oldest"]).total_seconds()
    expiring = [
        {
            "what": r["what"],
            "agency": r["owner"],
            "subject": r["subject"],
            "not_after": iso(r["not_after"]),
        }
        for r in await db.fetch(Q.certificates_expiring, now + dt.timedelta(days=30))
    ]
    crls = [
        {
            "ca": s.ca,
            "next_update": iso(s.next_update),
            "stale": s.stale(now),
            "source": s.url,
        }
        for s in await revocation.states(db)
        if s.this_update is not None
    ]
    dead = next((f for f in figures if f.name == names.DEAD_QUEUE), None)
    return {
        "at": iso(now),
        "throughput": throughput,
        "latency": latency,
        "rejections_24h": [{"code": c, "count": n} for c, n in sorted(rejections.items())],
        "overdue": await db.fetchval(Q.ops_overdue_count),
        "backlog": sorted(backlog.values(), key=lambda b: -int(b["waiting"])),
        "dead_letters": (dead.ready + dead.unacked) if dead else None,
        "certificates_expiring": expiring,
        "crls": crls,
        "broker_error": broker_error,
    }


# --- search -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Search:
    document_id: str | None = None
    sender: str | None = None
    recipient: str | None = None
    status: str | None = None
    code: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    overdue: bool | None = None
    limit: int = 50
    offset: int = 0


async def search(db: DB, q: Search) -> list[dict[str, Any]]:
    """Documents (or, with ``code``, rejected submissions) matching every filter given."""
    if q.code is not None:
        rows = await db.fetch(
            Q.ops_search_rejected,
            q.code,
            q.sender,
            q.document_id,
            q.since,
            q.until,
            q.limit,
            q.offset,
        )
        return [
            {
                "document_id": r["document_id"],
                "sender": r["submitter"],
                "claimed_sender": r["sender"],
                "outcome": "rejected",
                "code": r["code"],
                "detail": r["detail"],
                "kind": r["kind"],
                "at": iso(r["decided_at"]),
                "message_id": r["message_id"],
            }
            for r in rows
        ]
    found = []
    # overdue filters after the query; fetch generously so a page stays a page
    fetch = q.limit * 5 if q.overdue is not None else q.limit
    rows = await db.fetch(
        Q.ops_search,
        q.document_id,
        q.sender,
        q.recipient,
        q.status,
        q.since,
        q.until,
        fetch,
        q.offset,
    )
    for r in rows:
        if q.overdue is not None and r["overdue"] != q.overdue:
            continue
        found.append(
            {
                "document_id": r["document_id"],
                "sender": r["sender"],
                "recipients": list(r["recipients"] or []),
                "subject": r["subject"],
                "priority": r["priority"],
                "state": r["state"],
                "last_status": r["last_status"],
                "overdue": r["overdue"],
                "at": iso(r["created_at"]),
            }
        )
    return found[: q.limit]


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """A value as a spreadsheet may safely open it: text that a spreadsheet would run as a
    formula (``=``, ``+``, ``-``, ``@``, tab, carriage return first) gets a leading ``'``.
    Subjects and DocumentIds come from packages, that is from outside."""
    if isinstance(value, list):
        value = ";".join(str(v) for v in value)
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def as_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return ""
    buffer = io.StringIO()
    columns = list(rows[0].keys())
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: cell(v) for k, v in row.items()})
    return buffer.getvalue()


# --- agencies ---------------------------------------------------------------------------------


async def agencies(
    db: DB, *, parent: str | None = None, q: str | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    """One level of the agency tree (under ``parent``; the top without one), or the agencies
    matching ``q``: with their system, state, closure, children and certificates."""
    return [
        {
            "organ_id": r["organ_id"],
            "name": r["name"],
            "system_id": r["system_id"],
            "parent_id": r["parent_id"],
            "state": r["state"],
            "successor_id": r["successor_id"],
            "closed_on": r["closed_on"].isoformat() if r["closed_on"] else None,
            "children": r["children"],
            "last_seen": iso(r["last_seen_at"]),
            "certificates": r["certificates"],
            "latest_certificate_expiry": iso(r["latest_cert_expiry"]),
        }
        for r in await db.fetch(Q.directory_children, parent, q or None, limit)
    ]


async def agency(db: DB, organ_id: str) -> dict[str, Any] | None:
    row = await db.fetchrow(Q.ops_agency, organ_id)
    if row is None:
        return None
    certs = [
        {
            "fingerprint": bytes(c["fingerprint"]).hex(),
            "subject": c["subject"],
            "serial": format(int(c["serial"]), "x"),
            "not_before": iso(c["not_before"]),
            "not_after": iso(c["not_after"]),
            "key_type": c["key_type"],
        }
        for c in await db.fetch(Q.ops_agency_certificates, organ_id)
    ]
    return {
        "organ_id": row["organ_id"],
        "name": row["name"],
        "state": row["state"],
        "system_id": row["system_id"],
        "parent_id": row["parent_id"],
        "successor_id": row["successor_id"],
        "closed_on": row["closed_on"].isoformat() if row["closed_on"] else None,
        "children": row["children"],
        "since": iso(row["state_changed_at"]),
        "last_seen": iso(row["last_seen_at"]),
        "registered": iso(row["created_at"]),
        "certificates": certs,
    }
