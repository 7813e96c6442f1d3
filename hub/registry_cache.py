"""The registry as a running hub sees it, refreshed within seconds of any change.

PostgreSQL notifies ``lienthong_registry`` when agencies, certificates or trusted CAs change;
the cache reloads on a notification and, in case one is missed, every two seconds anyway —
so an agency added, suspended or resumed takes effect within the contract's five seconds.
"""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import structlog
from cryptography import x509

from hub.db import Q
from hub.trust import RegisteredCert, Snapshot
from hub.urgency import UrgentDocuments

log = structlog.get_logger(__name__)

REFRESH_SECONDS = 2.0
URGENT_REFRESH_SECONDS = 5.0


async def load(db: asyncpg.Connection | asyncpg.Pool, *, stale_crl: str = "refuse") -> Snapshot:
    agencies = {r["organ_id"]: r["state"] for r in await db.fetch(Q.registry_agencies)}
    certificates = {
        bytes(r["fingerprint"]): RegisteredCert(
            fingerprint=bytes(r["fingerprint"]),
            owner=r["organ_id"],
            ca_fingerprint=bytes(r["ca_fingerprint"]),
            serial=int(r["serial"]),
            not_before=r["not_before"],
            not_after=r["not_after"],
        )
        for r in await db.fetch(Q.registry_certificates)
    }
    trusted = {
        bytes(r["fingerprint"]): x509.load_pem_x509_certificate(r["pem"].encode())
        for r in await db.fetch(Q.registry_trusted)
    }
    revoked = frozenset(
        (bytes(r["ca_fingerprint"]), int(r["serial"])) for r in await db.fetch(Q.registry_revoked)
    )
    crl_next_update = {
        bytes(r["ca_fingerprint"]): r["next_update"] for r in await db.fetch(Q.registry_crls)
    }
    return Snapshot(
        agencies=agencies,
        certificates=certificates,
        trusted=trusted,
        revoked=revoked,
        crl_next_update=crl_next_update,
        stale_crl=stale_crl,
    )


class RegistryCache:
    def __init__(self, pool: asyncpg.Pool, database_url: str, *, stale_crl: str = "refuse") -> None:
        self._pool = pool
        self._stale_crl = stale_crl
        self._url = database_url
        self._changed = asyncio.Event()
        self.snapshot = Snapshot()
        self.urgent_documents = UrgentDocuments()

    async def start(self) -> None:
        self.snapshot = await load(self._pool, stale_crl=self._stale_crl)
        await self._load_urgent()

    async def _load_urgent(self) -> None:
        rows = await self._pool.fetch(Q.urgent_documents_recent)
        for row in rows:
            self.urgent_documents.add(row["sender"], row["document_id"])

    def _notified(self, *_: object) -> None:
        self._changed.set()

    async def run(self) -> None:
        """Keep the snapshot fresh until cancelled; survive database restarts."""
        listener: asyncpg.Connection | None = None
        ticks = 0
        while True:
            try:
                if listener is None or listener.is_closed():
                    listener = await asyncpg.connect(self._url)
                    await listener.add_listener("lienthong_registry", self._notified)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), REFRESH_SECONDS)
                self._changed.clear()
                self.snapshot = await load(self._pool, stale_crl=self._stale_crl)
                ticks += 1
                if ticks % int(URGENT_REFRESH_SECONDS / REFRESH_SECONDS) == 0:
                    await self._load_urgent()
            except asyncio.CancelledError:
                if listener is not None and not listener.is_closed():
                    await listener.close()
                raise
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("registry_refresh_failed", error=str(exc))
                listener = None
                await asyncio.sleep(REFRESH_SECONDS)
