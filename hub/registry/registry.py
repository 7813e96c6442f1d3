"""The agency registry: add, suspend, resume, move, register certificates, trust CAs.

Each operation changes PostgreSQL (the source of truth, which running hubs follow within
seconds) and, for an agency that is its own system, RabbitMQ: the system's user with a
generated password, least-privilege permissions and its two inbox queues
(:mod:`hub.registry.systems`). An agency hosted by a system (``--system``) needs nothing in
RabbitMQ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from aio_pika.abc import AbstractChannel
from cryptography import x509

from hub import home
from hub.audit import events
from hub.broker.management import Management
from hub.config import Settings
from hub.db import DB, Q
from hub.errors import CertificateRefused, Code, RegistryError
from hub.registry import issuing, pki, systems
from hub.registry.organ_id import check_organ_id


@dataclass(frozen=True, kw_only=True, slots=True)
class RegisteredCertificate:
    fingerprint: str
    subject: str
    key_type: str
    not_before: str
    not_after: str


@dataclass(frozen=True, kw_only=True, slots=True)
class AgencyRequest:
    organ_id: str
    name: str
    certificates: tuple[bytes, ...] = ()
    issue: bool = False
    legacy: bool = False
    key_kind: str = "rsa"
    system: str | None = None
    """The system hosting the agency; None: the agency is its own system (version 1)."""
    parent: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class AgencyCredentials:
    """What ``agency add --json`` prints; the password and token are shown only once."""

    organ_id: str
    name: str
    system_id: str
    amqp_user: str
    amqp_password: str | None
    """None for an agency hosted by a system: it connects with the system's credentials."""
    http_token: str | None
    certificates: tuple[RegisteredCertificate, ...]
    cert_path: Path | None = None
    key_path: Path | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)
    vxp_secret: str | None = None

    def as_json(self) -> dict[str, object]:
        result: dict[str, object] = {
            "organ_id": self.organ_id,
            "name": self.name,
            "system_id": self.system_id,
            "amqp_user": self.amqp_user,
            "certificates": [c.fingerprint for c in self.certificates],
            "warnings": list(self.warnings),
        }
        if self.amqp_password is not None:
            result["amqp_password"] = self.amqp_password
        if self.http_token is not None:
            result["http_token"] = self.http_token
        if self.vxp_secret is not None:
            result["vxp_secret"] = self.vxp_secret
        if self.cert_path is not None:
            result["cert_path"] = str(self.cert_path)
        if self.key_path is not None:
            result["key_path"] = str(self.key_path)
        return result


def issue_into_home(
    settings: Settings, organ_id: str, name: str, *, key_kind: str = "rsa"
) -> tuple[Path, Path, bytes]:
    """A key and certificate for ``organ_id`` from this LIENTHONG_HOME's development CA,
    written under ``agencies/<OrganId>/``: (key path, certificate path, certificate PEM)."""
    ca = home.load_dev_ca(settings)
    key, cert = issuing.issue(
        ca.key,
        ca.cert,
        issuing.IssueRequest(common_name=name, organ_id=organ_id, key_kind=key_kind),
    )
    key_path, cert_path = home.agency_paths(settings, organ_id)
    home.write_private(key_path, pki.key_pem(key))
    pem = pki.pem(cert).encode()
    home.write_public(cert_path, pem)
    return key_path, cert_path, pem


async def trusted_cas(db: DB, *, ever: bool = False) -> list[x509.Certificate]:
    """The CAs trusted now; ``ever``: those untrusted since too (what the audit checks seals
    by: a seal made while its CA was trusted stays good)."""
    rows = await db.fetch(Q.ca_list_all if ever else Q.trusted_ca_list)
    return [x509.load_pem_x509_certificate(row["pem"].encode()) for row in rows]


async def untrust_ca(db: DB, fingerprint: str, hub_cert: x509.Certificate) -> tuple[str, bool]:
    """Stop trusting the CA whose fingerprint starts with ``fingerprint`` (16+ hex digits):
    (its subject, whether it was untrusted now). Refused for the CA that issued the hub's own
    certificate (the hub's seals would stop verifying)."""
    prefix = pki.fingerprint_prefix(fingerprint, what="CA", listed_by="lienthong ca list")
    found = await db.fetch(Q.ca_by_prefix, prefix)
    if len(found) != 1:
        raise RegistryError(
            f"no trusted CA has a fingerprint starting {prefix}"
            if not found
            else f"{len(found)} CAs start {prefix}: give more digits"
        )
    row = found[0]
    ca = x509.load_pem_x509_certificate(row["pem"].encode())
    try:
        pki.check_chain(hub_cert, trusted=[ca])
    except CertificateRefused:
        pass
    else:
        raise RegistryError(
            f"{row['subject']} issued the hub's own certificate: untrusted, the hub's seals "
            "would stop verifying (put a new hub key in place first)"
        )
    async with db.transaction():
        now = (await db.execute(Q.ca_untrust, bytes(row["fingerprint"]))).endswith(" 1")
        if now:
            await events.append(
                db,
                kind="ca_untrusted",
                actor="operator",
                payload={"subject": row["subject"], "fingerprint": bytes(row["fingerprint"]).hex()},
            )
    return row["subject"], now


async def trust_ca(
    db: asyncpg.Connection, cert: x509.Certificate, *, source: str
) -> tuple[bool, tuple[str, ...]]:
    """Trust a CA. Returns (newly trusted, warnings)."""
    warnings = pki.check_trust_anchor(cert)
    inserted = await db.fetchval(
        Q.trusted_ca_insert,
        pki.fingerprint(cert),
        cert.subject.rfc4514_string(),
        cert.not_valid_before_utc,
        cert.not_valid_after_utc,
        pki.pem(cert),
        source,
    )
    if inserted is not None:
        await events.append(
            db,
            kind="ca_trusted",
            actor="operator",
            payload={
                "subject": cert.subject.rfc4514_string(),
                "fingerprint": pki.fingerprint(cert).hex(),
            },
        )
    return inserted is not None, warnings


async def register_certificate(
    db: asyncpg.Connection, organ_id: str, data: bytes
) -> tuple[RegisteredCertificate, tuple[str, ...]]:
    """Register a signing certificate (first in ``data``; the rest may be intermediates)."""
    certs = pki.load_certificates(data)
    if not certs:
        raise CertificateRefused(Code.CERT_UNTRUSTED, "the file holds no certificate")
    leaf, intermediates = certs[0], certs[1:]
    check = pki.check_chain(leaf, intermediates=intermediates, trusted=await trusted_cas(db))
    fp = pki.fingerprint(leaf)
    owner = await db.fetchval(Q.certificate_owner, fp)
    registered = RegisteredCertificate(
        fingerprint=fp.hex(),
        subject=leaf.subject.rfc4514_string(),
        key_type=pki.describe_key(leaf.public_key()),
        not_before=leaf.not_valid_before_utc.isoformat(),
        not_after=leaf.not_valid_after_utc.isoformat(),
    )
    if owner is not None and owner != organ_id:
        raise CertificateRefused(
            Code.SENDER_MISMATCH,
            f"certificate {registered.subject} is already registered to agency {owner}; "
            "one certificate belongs to one agency",
        )
    if owner is None:
        await db.execute(
            Q.certificate_insert,
            fp,
            organ_id,
            pki.fingerprint(check.anchor),
            registered.subject,
            leaf.serial_number,
            leaf.not_valid_before_utc,
            leaf.not_valid_after_utc,
            registered.key_type,
            pki.pem(leaf),
        )
        await events.append(
            db,
            kind="certificate_registered",
            actor="operator",
            organ_id=organ_id,
            payload={
                "fingerprint": fp.hex(),
                "subject": registered.subject,
                "not_after": registered.not_after,
            },
        )
    return registered, check.warnings


async def add_agency(
    db: asyncpg.Connection,
    management: Management,
    channel: AbstractChannel,
    settings: Settings,
    request: AgencyRequest,
) -> AgencyCredentials:
    organ_id = check_organ_id(request.organ_id, legacy=request.legacy)
    name = request.name.strip()
    if not name:
        raise RegistryError("an agency needs a name: --name 'UBND tỉnh Nghệ An'")
    if await db.fetchrow(Q.agency_get, organ_id) is not None:
        raise RegistryError(
            f"agency {organ_id} is already registered; use `lienthong agency cert add` "
            "for a new certificate, or suspend/resume it"
        )
    if request.system is not None:
        await systems.require(db, request.system)
    elif await db.fetchrow(Q.system_get, organ_id) is not None:
        raise RegistryError(
            f"a system {organ_id} is already registered; add the agency to it with "
            f"--system {organ_id}"
        )
    # Check every certificate before anything is created, so a refusal leaves no trace.
    trusted = await trusted_cas(db)
    for data in request.certificates:
        certs = pki.load_certificates(data)
        pki.check_chain(certs[0], intermediates=certs[1:], trusted=trusted)
    issued: list[bytes] = []
    key_path = cert_path = None
    if request.issue:
        key_path, cert_path, pem = issue_into_home(
            settings, organ_id, name, key_kind=request.key_kind
        )
        issued.append(pem)

    registered: list[RegisteredCertificate] = []
    warnings: list[str] = []
    own: systems.SystemCredentials | None = None
    async with db.transaction():
        if request.system is None:
            own = await systems.add_system(
                db, management, channel, settings, system_id=organ_id, name=name, event=False
            )
        system_id = request.system or organ_id
        await db.execute(Q.agency_insert, organ_id, name, request.legacy, system_id, request.parent)
        for data in (*request.certificates, *issued):
            cert_info, cert_warnings = await register_certificate(db, organ_id, data)
            registered.append(cert_info)
            warnings.extend(cert_warnings)
        await events.append(
            db,
            kind="agency_added",
            actor="operator",
            organ_id=organ_id,
            payload={"name": name, "legacy_id": request.legacy, "system": system_id},
        )
    return AgencyCredentials(
        organ_id=organ_id,
        name=name,
        system_id=system_id,
        amqp_user=system_id,
        amqp_password=own.amqp_password if own else None,
        http_token=own.http_token if own else None,
        vxp_secret=own.vxp_secret if own else None,
        certificates=tuple(registered),
        cert_path=cert_path,
        key_path=key_path,
        warnings=tuple(warnings),
    )


async def move_agency(db: DB, organ_id: str, system_id: str) -> bool:
    """Host the agency on another system from now on (its next delivery goes there)."""
    if await db.fetchrow(Q.agency_get, organ_id) is None:
        raise RegistryError(f"agency {organ_id} is not registered (see `lienthong agency list`)")
    await systems.require(db, system_id)
    async with db.transaction():
        moved = await db.fetchval(Q.agency_move, organ_id, system_id) is not None
        if moved:
            await events.append(
                db,
                kind="agency_moved",
                actor="operator",
                organ_id=organ_id,
                payload={"system": system_id},
            )
    return moved


async def set_state(db: DB, organ_id: str, state: str, *, actor: str = "operator") -> bool:
    """Suspend or resume. True when the state changed, False when it already was so."""
    if await db.fetchrow(Q.agency_get, organ_id) is None:
        raise RegistryError(f"agency {organ_id} is not registered (see `lienthong agency list`)")
    changed = await db.fetchval(Q.agency_set_state, organ_id, state) is not None
    if changed:
        await events.append(
            db,
            kind=f"agency_{'suspended' if state == 'suspended' else 'resumed'}",
            actor=actor,
            organ_id=organ_id,
        )
    return changed


async def reissue_agency(
    db: asyncpg.Connection, management: Management, settings: Settings, organ_id: str
) -> AgencyCredentials:
    """New credentials for an agency that is its own system, shown once: a key and certificate
    from this LIENTHONG_HOME's development CA (registered beside the old ones, which stay on
    record for old documents) and a new broker password, gateway token and national-SDK secret
    (the old ones stop working). For a checkout whose saved credentials are gone."""
    row = await db.fetchrow(Q.agency_get, organ_id)
    if row is None:
        raise RegistryError(f"agency {organ_id} is not registered (see `lienthong agency list`)")
    if row["system_id"] != organ_id:
        raise RegistryError(
            f"agency {organ_id} is hosted by system {row['system_id']}: reset the system's "
            f"credentials (lienthong system reset {row['system_id']})"
        )
    key_path, cert_path, pem = issue_into_home(settings, organ_id, row["name"])
    async with db.transaction():
        registered, warnings = await add_certificate(db, organ_id, pem)
        access = await systems.reset_access(db, management, settings, organ_id)
    return AgencyCredentials(
        organ_id=organ_id,
        name=row["name"],
        system_id=organ_id,
        amqp_user=organ_id,
        amqp_password=access.amqp_password,
        http_token=access.http_token,
        vxp_secret=access.vxp_secret,
        certificates=(registered,),
        cert_path=cert_path,
        key_path=key_path,
        warnings=warnings,
    )


async def add_certificate(
    db: asyncpg.Connection, organ_id: str, data: bytes
) -> tuple[RegisteredCertificate, tuple[str, ...]]:
    if await db.fetchrow(Q.agency_get, organ_id) is None:
        raise RegistryError(f"agency {organ_id} is not registered (see `lienthong agency list`)")
    async with db.transaction():
        return await register_certificate(db, organ_id, data)


async def list_agencies(db: asyncpg.Connection) -> Sequence[asyncpg.Record]:
    return await db.fetch(Q.agency_list)
