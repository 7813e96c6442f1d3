"""The registry as a running hub sees it: loaded once, then followed change by change.

The national directory holds 111,339 agencies; reloading it whole every few seconds cost about
a second and 185 MiB per reload. Instead every change of an agency, system, certificate,
trusted CA or CRL appends a row to ``registry_change`` (a trigger; ``hub/db/migrations/0007``),
PostgreSQL notifies ``lienthong_registry``, and the hub reads just the rows it has not applied
and re-reads just the rows they name — on the notification, or within
:data:`REFRESH_SECONDS` if one is missed. A look that finds nothing costs one indexed query,
whatever the directory's size. Rows are read by transaction horizon (every change of a
transaction still running at the last look is read again), so a transaction that commits late
is never missed; applying a change twice is harmless. More than :data:`MOST_CHANGES` at once
(a directory import) are applied by loading everything again, once. A full load also runs every
:data:`RESYNC_SECONDS` as a safety net.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import asyncpg
import structlog
from cryptography import x509

from hub.check.trust import Closure, RegisteredCert, Snapshot
from hub.db import DB, Q
from hub.route.urgency import UrgentDocuments

log = structlog.get_logger(__name__)

REFRESH_SECONDS = 2.0
URGENT_REFRESH_SECONDS = 5.0
RESYNC_SECONDS = 3600.0
MOST_CHANGES = 5000


@dataclass(kw_only=True)
class _Tables:
    """The snapshot's mappings, which the cache changes in place."""

    agencies: dict[str, str] = field(default_factory=dict)
    hosts: dict[str, str] = field(default_factory=dict)
    systems: dict[str, str] = field(default_factory=dict)
    unsigned_accepted: set[str] = field(default_factory=set)
    closures: dict[str, Closure] = field(default_factory=dict)
    certificates: dict[bytes, RegisteredCert] = field(default_factory=dict)
    trusted: dict[bytes, x509.Certificate] = field(default_factory=dict)
    revoked: dict[bytes, frozenset[int]] = field(default_factory=dict)
    crl_next_update: dict[bytes, dt.datetime | None] = field(default_factory=dict)

    def snapshot(self, stale_crl: str) -> Snapshot:
        return Snapshot(
            agencies=self.agencies,
            hosts=self.hosts,
            systems=self.systems,
            unsigned_accepted=self.unsigned_accepted,
            closures=self.closures,
            certificates=self.certificates,
            trusted=self.trusted,
            revoked=self.revoked,
            crl_next_update=self.crl_next_update,
            stale_crl=stale_crl,
        )

    def put_agency(self, r: asyncpg.Record) -> None:
        organ = r["organ_id"]
        self.agencies[organ] = r["state"]
        self.hosts[organ] = r["system_id"]
        if r["successor_id"] is not None and r["closed_on"] is not None:
            self.closures[organ] = Closure(successor=r["successor_id"], on=r["closed_on"])
        else:
            self.closures.pop(organ, None)

    def put_system(self, r: asyncpg.Record) -> None:
        self.systems[r["system_id"]] = r["state"]
        if r["unsigned_policy"] == "accept":
            self.unsigned_accepted.add(r["system_id"])
        else:
            self.unsigned_accepted.discard(r["system_id"])

    def drop_agency(self, organ: str) -> None:
        for table in (self.agencies, self.hosts, self.closures):
            table.pop(organ, None)

    def put_certificate(self, r: asyncpg.Record) -> None:
        fp = bytes(r["fingerprint"])
        self.certificates[fp] = RegisteredCert(
            fingerprint=fp,
            owner=r["organ_id"],
            ca_fingerprint=bytes(r["ca_fingerprint"]),
            serial=int(r["serial"]),
            not_before=r["not_before"],
            not_after=r["not_after"],
        )

    def put_revoked(self, rows: Iterable[asyncpg.Record], cas: Iterable[bytes]) -> None:
        serials: dict[bytes, set[int]] = defaultdict(set)
        for r in rows:
            serials[bytes(r["ca_fingerprint"])].add(int(r["serial"]))
        for ca in cas:
            self.revoked[ca] = frozenset(serials.get(ca, ()))


async def load(db: asyncpg.Connection | asyncpg.Pool, *, stale_crl: str = "refuse") -> Snapshot:
    """The whole registry (tests and the operators' tools; the hub uses :class:`RegistryCache`)."""
    return (await _load_tables(db)).snapshot(stale_crl)


async def _load_tables(db: DB | asyncpg.Pool) -> _Tables:
    tables = _Tables()
    for r in await db.fetch(Q.registry_agencies):
        tables.put_agency(r)
    for r in await db.fetch(Q.registry_systems):
        tables.put_system(r)
    for r in await db.fetch(Q.registry_certificates):
        tables.put_certificate(r)
    tables.trusted = {
        bytes(r["fingerprint"]): x509.load_pem_x509_certificate(r["pem"].encode())
        for r in await db.fetch(Q.registry_trusted)
    }
    revoked = await db.fetch(Q.registry_revoked)
    tables.put_revoked(revoked, {bytes(r["ca_fingerprint"]) for r in revoked})
    tables.crl_next_update = {
        bytes(r["ca_fingerprint"]): r["next_update"] for r in await db.fetch(Q.registry_crls)
    }
    return tables


class RegistryCache:
    def __init__(self, pool: asyncpg.Pool, database_url: str, *, stale_crl: str = "refuse") -> None:
        self._pool = pool
        self._stale_crl = stale_crl
        self._url = database_url
        self._changed = asyncio.Event()
        self._tables = _Tables()
        self._horizon = 0
        self._loaded_at = 0.0
        self.snapshot = Snapshot()
        self.urgent_documents = UrgentDocuments()
        self._urgent_since: dt.datetime | None = None
        self.applied = 0
        """Changes applied one by one since start (tests and the bench read it)."""

    async def start(self) -> None:
        await self.reload()
        await self._load_urgent()

    async def reload(self) -> None:
        """Everything, in one consistent snapshot; changes are followed from its horizon."""
        async with (
            self._pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            horizon = int(await conn.fetchval(Q.registry_horizon))
            tables = await _load_tables(conn)
        self._tables = tables
        self._horizon = horizon
        self._loaded_at = time.monotonic()
        self.snapshot = tables.snapshot(self._stale_crl)

    async def follow(self) -> int:
        """Apply what changed since the last look; returns how many changes were read."""
        async with (
            self._pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            horizon = int(await conn.fetchval(Q.registry_horizon))
            changes = await conn.fetch(
                Q.registry_changes_since, str(self._horizon), MOST_CHANGES + 1
            )
            if len(changes) > MOST_CHANGES:
                many = True
            else:
                many = False
                await self._apply(conn, changes)
        if many:
            log.info("registry_reload", reason=f"more than {MOST_CHANGES} changes")
            await self.reload()
            return len(changes)
        self._horizon = horizon
        self.applied += len(changes)
        return len(changes)

    async def _apply(self, conn: DB, changes: list[asyncpg.Record]) -> None:
        keys: dict[str, set[str]] = defaultdict(set)
        for change in changes:
            keys[change["kind"]].add(change["key"])
        tables = self._tables
        if keys["agency"]:
            wanted = sorted(keys["agency"])
            found = await conn.fetch(Q.registry_agencies_by_id, wanted)
            for r in found:
                tables.put_agency(r)
            for gone in set(wanted) - {r["organ_id"] for r in found}:
                tables.drop_agency(gone)
        if keys["system"]:
            wanted = sorted(keys["system"])
            found = await conn.fetch(Q.registry_systems_by_id, wanted)
            for r in found:
                tables.put_system(r)
            for gone in set(wanted) - {r["system_id"] for r in found}:
                tables.systems.pop(gone, None)
                tables.unsigned_accepted.discard(gone)
        if keys["certificate"]:
            wanted_fp = [bytes.fromhex(k) for k in sorted(keys["certificate"])]
            found = await conn.fetch(Q.registry_certificates_by_fingerprint, wanted_fp)
            for r in found:
                tables.put_certificate(r)
            for gone_fp in set(wanted_fp) - {bytes(r["fingerprint"]) for r in found}:
                tables.certificates.pop(gone_fp, None)
        if keys["ca"]:
            wanted_fp = [bytes.fromhex(k) for k in sorted(keys["ca"])]
            found = await conn.fetch(Q.registry_trusted_by_fingerprint, wanted_fp)
            for r in found:
                tables.trusted[bytes(r["fingerprint"])] = x509.load_pem_x509_certificate(
                    r["pem"].encode()
                )
            for gone_fp in set(wanted_fp) - {bytes(r["fingerprint"]) for r in found}:
                tables.trusted.pop(gone_fp, None)
        if keys["crl"]:
            cas = [bytes.fromhex(k) for k in sorted(keys["crl"])]
            tables.put_revoked(await conn.fetch(Q.registry_revoked_by_ca, cas), cas)
            for r in await conn.fetch(Q.registry_crls_by_ca, cas):
                tables.crl_next_update[bytes(r["ca_fingerprint"])] = r["next_update"]

    async def _load_urgent(self) -> None:
        """The recent urgent documents at start, then those accepted since the last look."""
        if self._urgent_since is None:
            self._urgent_since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=60)
            rows = await self._pool.fetch(Q.urgent_documents_recent)
            for row in reversed(rows):  # newest last: the newest are forgotten last
                self.urgent_documents.add(row["sender"], row["document_id"])
            return
        # a minute of overlap: a document committed late is still seen
        since = self._urgent_since - dt.timedelta(seconds=60)
        self._urgent_since = dt.datetime.now(dt.UTC)
        for row in await self._pool.fetch(Q.urgent_documents_since, since):
            self.urgent_documents.add(row["sender"], row["document_id"])

    def _notified(self, *_: object) -> None:
        self._changed.set()

    async def run(self) -> None:
        """Follow the registry until cancelled; survive database restarts."""
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
                if time.monotonic() - self._loaded_at > RESYNC_SECONDS:
                    await self.reload()
                    await self._pool.execute(Q.registry_changes_prune)
                else:
                    await self.follow()
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
