"""The append-only event log as hash chains: one chain per agency (or ``hub``).

An append locks its chain's head row (``chain_head``) for the rest of the transaction, so
appends to one chain are ordered while other chains append in parallel; the link's hash
(:mod:`hub.chain`) covers the previous link's. A transaction that appends to several chains
takes them in name order (:func:`append_many`), so two such transactions cannot deadlock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from hub import chain
from hub.db import DB, Q


@dataclass(frozen=True, kw_only=True, slots=True)
class Event:
    kind: str
    actor: str
    organ_id: str | None = None
    document_id: str | None = None
    payload: dict[str, object] = field(default_factory=dict)

    @property
    def chain(self) -> str:
        return self.organ_id or "hub"


async def _append_locked(db: DB, event: Event, at: dt.datetime) -> None:
    head = await db.fetchrow(Q.chain_head_lock, event.chain, chain.GENESIS)
    assert head is not None
    link = chain.Link(
        chain=event.chain,
        seq=head["seq"] + 1,
        kind=event.kind,
        document_id=event.document_id,
        organ_id=event.organ_id,
        actor=event.actor,
        payload=event.payload,
        at=chain.timestamp(at),
    )
    new_hash = chain.next_hash(head["hash"], link.digest())
    await db.execute(
        Q.event_append,
        link.chain,
        link.seq,
        link.kind,
        link.document_id,
        link.organ_id,
        link.actor,
        chain.canonical(event.payload).decode(),
        head["hash"],
        new_hash,
        at,
    )


async def append_many(db: DB, batch: Iterable[Event]) -> None:
    at = dt.datetime.now(dt.UTC)
    items = sorted(batch, key=lambda e: e.chain)
    if not items:
        return
    async with db.transaction():
        for event in items:
            await _append_locked(db, event, at)


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
