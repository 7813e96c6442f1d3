"""Who may send what, decided over a snapshot of the registry (pure; the snapshot is loaded and
refreshed by :mod:`hub.registry_cache`).

Order, after the signature itself is verified: certificate trust, validity and revocation;
sender binding and state; recipients.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cryptography import x509

from hub import pki
from hub.errors import CertificateRefused, Code, PackageRejected


@dataclass(frozen=True, kw_only=True, slots=True)
class RegisteredCert:
    fingerprint: bytes
    owner: str
    ca_fingerprint: bytes
    serial: int
    not_before: dt.datetime
    not_after: dt.datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class Snapshot:
    """The registry as the hub last read it."""

    agencies: Mapping[str, str] = field(default_factory=dict)
    """OrganId → state (``active`` or ``suspended``)."""
    certificates: Mapping[bytes, RegisteredCert] = field(default_factory=dict)
    trusted: Mapping[bytes, x509.Certificate] = field(default_factory=dict)
    revoked: frozenset[tuple[bytes, int]] = frozenset()
    """(CA fingerprint, serial) of revoked certificates."""
    crl_next_update: Mapping[bytes, dt.datetime | None] = field(default_factory=dict)
    """CA fingerprint → when its latest loaded CRL says the next one is due (CAs with a CRL)."""
    stale_crl: str = "refuse"
    """What a CRL past its nextUpdate means: ``refuse`` packages signed under that CA, or
    ``warn`` (accept, and show the stale CRL in metrics and on the dashboard)."""

    def crl_is_stale(self, ca_fingerprint: bytes, now: dt.datetime) -> dt.datetime | None:
        """When the CA's CRL went stale, or None while it is fresh (or the CA has none)."""
        due = self.crl_next_update.get(ca_fingerprint)
        return due if due is not None and due < now else None

    def is_registered(self, organ_id: str) -> bool:
        return organ_id in self.agencies


def check_signer(cert: x509.Certificate, snapshot: Snapshot, now: dt.datetime) -> str:
    """The agency the signer certificate is registered to, or a refusal."""
    fp = pki.fingerprint(cert)
    subject = cert.subject.rfc4514_string()
    registered = snapshot.certificates.get(fp)
    if registered is None:
        try:
            pki.check_chain(cert, trusted=snapshot.trusted.values(), now=now)
        except CertificateRefused as exc:
            if exc.code is Code.CERT_UNTRUSTED:
                raise PackageRejected(
                    Code.CERT_UNTRUSTED, f"signer certificate {subject}: {exc.detail}"
                ) from exc
            raise PackageRejected(exc.code, exc.detail) from exc
        raise PackageRejected(
            Code.CERT_UNTRUSTED,
            f"signer certificate {subject} (SHA-256 {fp.hex()[:16]}…) is not registered to any "
            "agency; ask the hub's operators to register it (lienthong agency cert add)",
        )
    if registered.ca_fingerprint not in snapshot.trusted:
        raise PackageRejected(
            Code.CERT_UNTRUSTED,
            f"signer certificate {subject} was issued by a CA this hub no longer trusts",
        )
    if now < registered.not_before:
        raise PackageRejected(
            Code.CERT_EXPIRED,
            f"signer certificate {subject} is not valid before "
            f"{registered.not_before:%Y-%m-%d %H:%M}Z",
        )
    if now > registered.not_after:
        raise PackageRejected(
            Code.CERT_EXPIRED,
            f"signer certificate {subject} expired on {registered.not_after:%Y-%m-%d %H:%M}Z; "
            "sign with the agency's current certificate",
        )
    if (registered.ca_fingerprint, registered.serial) in snapshot.revoked:
        raise PackageRejected(
            Code.CERT_REVOKED,
            f"signer certificate {subject} (serial {registered.serial:x}) is revoked by its CA",
        )
    stale_since = snapshot.crl_is_stale(registered.ca_fingerprint, now)
    if stale_since is not None and snapshot.stale_crl == "refuse":
        raise PackageRejected(
            Code.CERT_REVOKED,
            f"the revocation status of signer certificate {subject} cannot be established: its "
            f"CA's certificate revocation list expired on {stale_since:%Y-%m-%d %H:%M}Z and no "
            "newer one is loaded; the hub's operators must load a fresh CRL",
        )
    return registered.owner


def bind_sender(*, claimed: str, submitter: str, owner: str, snapshot: Snapshot) -> None:
    """From/OrganId, the broker user (or gateway token) and the certificate owner must agree."""
    if claimed != submitter:
        raise PackageRejected(
            Code.SENDER_MISMATCH,
            f"the package says it is from {claimed} but was submitted by {submitter}; an agency "
            "submits only its own packages",
        )
    if owner != claimed:
        raise PackageRejected(
            Code.SENDER_MISMATCH,
            f"the package says it is from {claimed} but is signed with a certificate registered "
            f"to {owner}",
        )
    state = snapshot.agencies.get(claimed)
    if state is None:
        raise PackageRejected(Code.SENDER_MISMATCH, f"{claimed} is not a registered agency")
    if state == "suspended":
        raise PackageRejected(
            Code.SENDER_SUSPENDED,
            f"agency {claimed} is suspended: the hub takes no new submissions from it; "
            "contact the hub's operators",
        )


def check_recipients(recipients: Iterable[str], snapshot: Snapshot) -> None:
    """Every recipient registered (``RECIPIENT_UNKNOWN`` for all of them first), then active."""
    wanted = list(dict.fromkeys(recipients))
    unknown = [r for r in wanted if r not in snapshot.agencies]
    if unknown:
        raise PackageRejected(
            Code.RECIPIENT_UNKNOWN,
            f"recipient(s) {', '.join(unknown)} are not registered with this hub; check To/OrganId",
        )
    suspended = [r for r in wanted if snapshot.agencies[r] == "suspended"]
    if suspended:
        raise PackageRejected(
            Code.RECIPIENT_SUSPENDED,
            f"recipient(s) {', '.join(suspended)} are suspended and take no new packages",
        )
