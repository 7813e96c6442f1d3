"""The append-only event log as hash chains: per agency (:data:`LANES` of them), and ``hub``.

An append is one statement: an upsert on the chain's head row (``chain_head``) that locks it
for the rest of the transaction, so appends to one chain are ordered while other chains append
in parallel; the link's hash (:mod:`hub.audit.chain`) covers the previous link's. A transaction
that appends to several chains takes them in name order (:func:`append_many`), so two such
transactions cannot deadlock.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from hub.audit import chain
from hub.db import DB, Q

LANES = 8
"""Chains per agency: appends to one chain wait for each other until commit (the head's row
lock), so a busy agency's documents are spread over this many."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Event:
    kind: str
    actor: str
    organ_id: str | None = None
    document_id: str | None = None
    payload: dict[str, object] = field(default_factory=dict)

    @property
    def chain(self) -> str:
        """``hub``; an agency's OrganId for events about no document; else one of the agency's
        :data:`LANES` chains, chosen by the DocumentId (all of a document's links in one)."""
        if self.organ_id is None:
            return "hub"
        if self.document_id is None:
            return self.organ_id
        return f"{self.organ_id}#{zlib.crc32(self.document_id.encode()) % LANES}"


def _row(event: Event, at: dt.datetime, stamp: str) -> tuple[object, ...]:
    """``stamp``: ``at`` as the chain writes it (:func:`hub.audit.chain.timestamp`)."""
    payload = chain.canonical(event.payload).decode()
    link = chain.Link(
        chain=event.chain,
        kind=event.kind,
        document_id=event.document_id,
        organ_id=event.organ_id,
        actor=event.actor,
        payload=event.payload,
        at=stamp,
    )
    return (
        link.chain,
        link.kind,
        link.document_id,
        link.organ_id,
        link.actor,
        payload,
        chain.sha256(chain.content_with(link, payload)),
        chain.GENESIS,
        at,
    )


def links(batch: Iterable[Event]) -> list[tuple[object, ...]]:
    """The rows ``event_append`` takes, in chain-name order, all stamped with the same time."""
    at = dt.datetime.now(dt.UTC)
    stamp = chain.timestamp(at)
    return [_row(event, at, stamp) for event in sorted(batch, key=lambda e: e.chain)]


def arrays(rows: list[tuple[object, ...]]) -> list[object]:
    """The same rows as the arguments of ``append_events`` (migration 0006): seven arrays, the
    genesis hash, the time."""
    at = rows[0][8] if rows else dt.datetime.now(dt.UTC)
    return [[row[i] for row in rows] for i in range(7)] + [chain.GENESIS, at]


async def append_many(db: DB, batch: Iterable[Event]) -> None:
    """Append in chain-name order, in one statement."""
    rows = links(batch)
    if len(rows) == 1:
        await db.execute(Q.event_append, *rows[0])
    elif rows:
        await db.execute(Q.events_append_all, *arrays(rows))


async def append(
    db: DB,
    *,
    kind: str,
    actor: str,
    organ_id: str | None = None,
    document_id: str | None = None,
    payload: dict[str, object] | None = None,
) -> None:
    await append_many(
        db,
        [
            Event(
                kind=kind,
                actor=actor,
                organ_id=organ_id,
                document_id=document_id,
                payload=payload or {},
            )
        ],
    )
