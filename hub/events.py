"""The append-only event log: one chain per agency (or ``hub``), appended under a per-chain
transaction-scoped advisory lock so several hub processes append concurrently."""

from __future__ import annotations

import json

from hub.db import DB, Q


async def append(
    db: DB,
    *,
    kind: str,
    actor: str,
    organ_id: str | None = None,
    document_id: str | None = None,
    payload: dict[str, object] | None = None,
) -> None:
    chain = organ_id or "hub"
    async with db.transaction():
        await db.execute("SELECT pg_advisory_xact_lock(hashtext($1))", chain)
        await db.execute(
            Q.event_append, chain, kind, document_id, organ_id, actor, json.dumps(payload or {})
        )
