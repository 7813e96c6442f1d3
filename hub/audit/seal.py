"""Seals: every so often one hub process commits the head of every chain into a signed Merkle
root (:mod:`hub.audit.chain`), chained to the previous seal. ``lienthong audit seal`` seals at once.

Only one process seals at a time (a transaction-scoped advisory lock); a process that finds
the lock taken, or nothing appended since the last seal, does nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from dataclasses import dataclass

import asyncpg
import structlog
from cryptography.hazmat.primitives import serialization

from hub.audit import chain
from hub.db import DB, Q
from hub.record.receipt import HubSigner
from hub.registry import pki

log = structlog.get_logger(__name__)

_LOCK = 0x5EA1  # pg_try_advisory_xact_lock key for sealing


@dataclass(frozen=True, kw_only=True, slots=True)
class Sealed:
    seq: int
    chains: int
    root: str
    at: str


def heads_json(heads: list[chain.Head]) -> list[dict[str, object]]:
    return [{"chain": h.chain, "seq": h.seq, "hash": h.hash.hex()} for h in heads]


def heads_from_json(value: object) -> list[chain.Head]:
    items = json.loads(value) if isinstance(value, str) else value
    assert isinstance(items, list)
    return [
        chain.Head(chain=str(i["chain"]), seq=int(i["seq"]), hash=bytes.fromhex(str(i["hash"])))
        for i in items
    ]


async def seal(
    db: DB, signer: HubSigner, *, force: bool = False, wait: bool = False
) -> Sealed | None:
    """Seal the current heads; None when nothing is new, or — unless ``wait`` — when another
    process is sealing (``wait`` lets it finish first, then seals what is still unsealed)."""
    async with db.transaction():
        if wait:
            await db.execute("SELECT pg_advisory_xact_lock($1)", _LOCK)
        elif not await db.fetchval("SELECT pg_try_advisory_xact_lock($1)", _LOCK):
            return None
        heads = [
            chain.Head(chain=r["chain"], seq=r["seq"], hash=bytes(r["hash"]))
            for r in await db.fetch(Q.chain_heads)
        ]
        last = await db.fetchrow(Q.seal_last)
        if last is not None and not force and heads_from_json(last["heads"]) == heads:
            return None
        seq = 1 if last is None else last["seq"] + 1
        prev = chain.GENESIS if last is None else chain.sha256(bytes(last["body"]))
        root = chain.merkle_root(chain.heads_leaves(heads))
        now = dt.datetime.now(dt.UTC)
        at = chain.timestamp(now)
        body = chain.seal_body(seq=seq, at=at, prev=prev, root=root, size=len(heads))
        await db.execute(
            Q.seal_insert,
            seq,
            body,
            json.dumps(heads_json(heads)),
            pki.sign_bytes(signer.key, body),
            signer.cert.public_bytes(serialization.Encoding.DER),
            now,
        )
    log.info("sealed", seal=seq, chains=len(heads), root=root.hex())
    return Sealed(seq=seq, chains=len(heads), root=root.hex(), at=at)


class Sealer:
    """The hub's sealing loop (``LIENTHONG_SEAL_SECONDS``)."""

    def __init__(self, pool: asyncpg.Pool, signer: HubSigner, *, every: float) -> None:
        self._pool = pool
        self._signer = signer
        self._every = every

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            try:
                async with self._pool.acquire() as conn:
                    await seal(conn, self._signer)
            except Exception as exc:
                log.warning("seal_failed", error=repr(exc))
