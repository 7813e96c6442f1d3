"""Certificate revocation lists: ``lienthong ca crl add <crl.pem|der>``.

A CRL is accepted only when a CA the hub trusts issued and signed it; its revoked serials are
recorded against that CA, and hubs refuse packages signed with those certificates
(``CERT_REVOKED``) within seconds. A CRL older than the latest one loaded for that CA is
refused (no rolling back a revocation).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
import structlog
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from hub import metrics
from hub.audit import events
from hub.db import DB, Q
from hub.errors import CertificateRefused, Code
from hub.registry import pki
from hub.registry.registry import trusted_cas

log = structlog.get_logger(__name__)


@dataclass(frozen=True, kw_only=True, slots=True)
class LoadedCrl:
    issuer: str
    revoked: int
    this_update: str
    next_update: str | None


def parse(data: bytes) -> x509.CertificateRevocationList:
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except ValueError as exc:
        raise CertificateRefused(Code.CERT_UNTRUSTED, f"not a CRL (PEM or DER): {exc}") from exc


async def add(db: DB, data: bytes) -> LoadedCrl:
    crl = parse(data)
    issuer = None
    for ca in await trusted_cas(db):
        key = ca.public_key()
        if ca.subject == crl.issuer and isinstance(
            key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey
        ):
            if crl.is_signature_valid(key):
                issuer = ca
                break
    if issuer is None:
        raise CertificateRefused(
            Code.CERT_UNTRUSTED,
            f"the CRL of {crl.issuer.rfc4514_string()} was not issued and signed by a CA this "
            "hub trusts",
        )
    ca_fp = pki.fingerprint(issuer)
    latest = await db.fetchval(Q.crl_latest, ca_fp)
    if latest is not None and crl.last_update_utc < latest:
        raise CertificateRefused(
            Code.CERT_UNTRUSTED,
            f"this CRL ({crl.last_update_utc:%Y-%m-%d %H:%M}Z) is older than the one already "
            f"loaded for {issuer.subject.rfc4514_string()} ({latest:%Y-%m-%d %H:%M}Z)",
        )
    async with db.transaction():
        crl_id = await db.fetchval(
            Q.crl_insert, ca_fp, crl.last_update_utc, crl.next_update_utc, data
        )
        entries = list(crl)
        await db.execute(
            Q.revoked_upsert,
            ca_fp,
            [entry.serial_number for entry in entries],
            [entry.revocation_date_utc for entry in entries],
            crl_id,
        )
        await events.append(
            db,
            kind="crl_loaded",
            actor="operator",
            payload={"issuer": issuer.subject.rfc4514_string(), "revoked": len(crl)},
        )
    return LoadedCrl(
        issuer=issuer.subject.rfc4514_string(),
        revoked=len(crl),
        this_update=crl.last_update_utc.isoformat(),
        next_update=crl.next_update_utc.isoformat() if crl.next_update_utc else None,
    )


# --- distribution points, freshness -----------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class CrlState:
    """A trusted CA's revocation information as it stands."""

    ca: str
    fingerprint: str
    url: str | None
    this_update: dt.datetime | None
    next_update: dt.datetime | None
    loaded_at: dt.datetime | None

    def stale(self, now: dt.datetime) -> bool:
        return self.next_update is not None and self.next_update < now


async def states(db: DB) -> list[CrlState]:
    return [
        CrlState(
            ca=r["subject"],
            fingerprint=bytes(r["fingerprint"]).hex(),
            url=r["crl_url"],
            this_update=r["this_update"],
            next_update=r["next_update"],
            loaded_at=r["loaded_at"],
        )
        for r in await db.fetch(Q.crl_status)
    ]


async def find_ca(db: DB, selector: str) -> x509.Certificate:
    """A trusted CA by fingerprint (hex, a prefix will do) or by a part of its subject."""
    matches = [
        ca
        for ca in await trusted_cas(db)
        if pki.fingerprint(ca).hex().startswith(selector.lower())
        or selector.lower() in ca.subject.rfc4514_string().lower()
    ]
    if len(matches) != 1:
        names = ", ".join(c.subject.rfc4514_string() for c in matches) or "none"
        raise CertificateRefused(
            Code.CERT_UNTRUSTED,
            f"{selector!r} must name exactly one trusted CA (matched: {names}); "
            "use its SHA-256 fingerprint",
        )
    return matches[0]


async def set_url(db: DB, selector: str, url: str | None) -> str:
    if url is not None and urlsplit(url).scheme not in ("http", "https", "file"):
        raise CertificateRefused(
            Code.CERT_UNTRUSTED, f"{url!r} is not an http(s) or file URL of a CRL"
        )
    ca = await find_ca(db, selector)
    await db.execute(Q.trusted_ca_set_crl_url, pki.fingerprint(ca), url)
    await events.append(
        db,
        kind="crl_source",
        actor="operator",
        payload={"issuer": ca.subject.rfc4514_string(), "url": url},
    )
    return ca.subject.rfc4514_string()


async def download(url: str, *, timeout: float = 20.0, limit: int = 64 << 20) -> bytes:
    if url.startswith("file://"):
        return await asyncio.to_thread(Path(urlsplit(url).path).read_bytes)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=True) as client:
        response = await client.get(url)
        response.raise_for_status()
        if len(response.content) > limit:
            raise ValueError(f"the CRL at {url} is over {limit} bytes")
        return response.content


@dataclass(frozen=True, kw_only=True, slots=True)
class Refreshed:
    ca: str
    url: str
    outcome: str
    """``loaded``, ``unchanged`` or ``failed: why``."""


async def refresh(db: DB, *, step: Callable[[str], None] = lambda _: None) -> list[Refreshed]:
    """Fetch every configured distribution point once; load what is newer. ``step`` is told
    each CA as its CRL is fetched."""
    done = []
    for source in await db.fetch(Q.trusted_ca_crl_sources):
        ca, url = source["subject"], source["crl_url"]
        step(ca)
        try:
            data = await download(url)
            crl = parse(data)
            latest = await db.fetchval(Q.crl_latest, bytes(source["fingerprint"]))
            if latest is not None and crl.last_update_utc <= latest:
                done.append(Refreshed(ca=ca, url=url, outcome="unchanged"))
                continue
            await add(db, data)
            done.append(Refreshed(ca=ca, url=url, outcome="loaded"))
        except (OSError, ValueError, httpx.HTTPError, CertificateRefused) as exc:
            metrics.CRL_REFRESH_FAILURES.labels(ca).inc()
            log.warning("crl_refresh_failed", ca=ca, url=url, error=str(exc))
            done.append(Refreshed(ca=ca, url=url, outcome=f"failed: {exc}"))
    return done


async def observe(db: DB) -> list[CrlState]:
    """Update the CRL and certificate-expiry gauges; return the CRL states."""
    now = pki.utcnow()
    found = await states(db)
    due = [state for state in found if state.next_update is not None]
    metrics.CRL_NEXT_UPDATE.replace(
        {(s.ca,): s.next_update.timestamp() for s in due if s.next_update is not None}
    )
    metrics.CRL_STALE.replace({(s.ca,): 1 if s.stale(now) else 0 for s in due})
    metrics.CERT_EXPIRY.replace(  # retired certificates are not among them
        {
            (row["organ_id"], bytes(row["fingerprint"]).hex()[:16]): row["not_after"].timestamp()
            for row in await db.fetch(Q.certificate_expiries)
        }
    )
    return found


class CrlWatch:
    """Refreshes CRLs from their distribution points and keeps the gauges current; a stale CRL
    is logged as a warning each time it is seen (and shown on the dashboard)."""

    def __init__(self, pool: asyncpg.Pool, *, refresh_every: float, observe_every: float = 30.0):
        self._pool = pool
        self._refresh_every = refresh_every
        self._observe_every = observe_every

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_refresh = loop.time()
        while True:
            try:
                async with self._pool.acquire() as conn:
                    if loop.time() >= next_refresh:
                        next_refresh = loop.time() + self._refresh_every
                        await refresh(conn)
                    now = pki.utcnow()
                    for state in await observe(conn):
                        if state.stale(now):
                            log.warning(
                                "crl_stale",
                                ca=state.ca,
                                next_update=state.next_update.isoformat()
                                if state.next_update
                                else None,
                            )
            except Exception as exc:
                log.warning("crl_watch_failed", error=repr(exc))
            await asyncio.sleep(min(self._observe_every, self._refresh_every))
