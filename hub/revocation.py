"""Certificate revocation lists: ``lienthong ca crl add <crl.pem|der>``.

A CRL is accepted only when a CA the hub trusts issued and signed it; its revoked serials are
recorded against that CA, and hubs refuse packages signed with those certificates
(``CERT_REVOKED``) within seconds. A CRL older than the latest one loaded for that CA is
refused (no rolling back a revocation).
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from hub import events, pki
from hub.db import DB, Q
from hub.errors import CertificateRefused, Code
from hub.registry import trusted_cas


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
        for entry in crl:
            await db.execute(
                Q.revoked_upsert, ca_fp, entry.serial_number, entry.revocation_date_utc, crl_id
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
