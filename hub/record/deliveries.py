"""What the hub puts into inboxes: one :class:`Outbound` per planned delivery (its message id
fixed when planned, so a redelivery carries the same one), marked published (or dead) once
the broker confirmed it, and found again when a crash left it pending (the sweeper)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg

from hub.audit import events
from hub.db import DB, Q


@dataclass(frozen=True, kw_only=True, slots=True)
class Outbound:
    """One message to put into an inbox."""

    delivery_id: int
    package_id: int
    recipient: str
    kind: str
    message_id: str
    urgent: bool
    document_id: str | None
    body: bytes
    digest: bytes
    """The package's SHA-256 (a claim check's ``x-body-sha256``; for a receipt, its package's)."""
    for_agency: str | None = None
    """``x-recipient``: the agency the message is for. For a package, the recipient; for a
    receipt, the submitting agency as the package names it (None if it was unreadable)."""
    addressed_to: str | None = None
    """``x-addressed-to``: the closed OrganId the package named, when it went to its successor."""

    @property
    def is_receipt(self) -> bool:
        """A receipt goes to the submitter's own inbox (``recipient`` is the system); anything
        else to the inbox of the system hosting ``recipient`` (the publisher routes it)."""
        return self.kind == "receipt"

    @classmethod
    def from_row(cls, row: asyncpg.Record, package_id: int, body: bytes) -> Outbound:
        """A delivery as recorded (``deliveries_of_package`` or ``deliveries_stale``)."""
        receipt = row["kind"] == "receipt"
        return cls(
            delivery_id=row["id"],
            package_id=package_id,
            recipient=row["recipient"],
            kind=row["kind"],
            message_id=row["message_id"],
            urgent=row["urgent"],
            document_id=row["document_id"],
            body=body,
            digest=bytes(row["package_digest"]),
            for_agency=row["package_sender"] if receipt else row["recipient"],
            addressed_to=row["addressed_to"],
        )


def delivery_message_id(package_id: int, kind: str, recipient: str) -> str:
    """Fixed when the delivery is planned, so a redelivery carries the same id."""
    return f"lt-{package_id}-{kind}-{recipient}"


async def mark_delivered(
    db: DB,
    published: list[Outbound],
    dead: list[tuple[Outbound, str]],
    *,
    deadline: dt.datetime | None = None,
) -> None:
    """After the broker confirmed: mark deliveries published (or dead), append the events.

    ``deadline`` is when the recipients' first status is due (the same-day rule); it applies to
    new and replacement documents only."""
    delivered = [
        events.Event(
            kind="delivered",
            actor="hub",
            organ_id=out.recipient,
            document_id=out.document_id,
            payload={"package": out.package_id, "kind": out.kind, "message_id": out.message_id},
        )
        for out in published
    ]
    if published and not dead:  # the common case: one statement, its own transaction
        await db.execute(
            Q.deliveries_mark_published_linked,
            [o.delivery_id for o in published],
            deadline,
            *events.arrays(events.links(delivered)),
        )
        return
    async with db.transaction():
        if published:
            await db.execute(
                Q.deliveries_mark_published, [o.delivery_id for o in published], deadline
            )
        for out, reason in dead:
            await db.execute(Q.delivery_mark_dead, out.delivery_id, reason)
        await events.append_many(db, delivered)


async def stale_deliveries(db: DB, *, older_than: float, limit: int) -> list[Outbound]:
    """Pending deliveries nobody is working on, locked (SKIP LOCKED) for this transaction."""
    rows = await db.fetch(Q.deliveries_stale, older_than, limit)
    bodies: dict[tuple[int, str], bytes] = {}
    outbound = []
    for row in rows:
        package_id = row["package_id"]
        what = "receipt" if row["kind"] == "receipt" else "body"
        if (package_id, what) not in bodies:
            query = Q.receipt_of_package if what == "receipt" else Q.package_body
            bodies[(package_id, what)] = await db.fetchval(query, package_id) or b""
        outbound.append(Outbound.from_row(row, package_id, bodies[(package_id, what)]))
    return outbound
