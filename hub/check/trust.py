"""Who may send what, decided over a snapshot of the registry (pure; the snapshot is loaded and
refreshed by :mod:`hub.registry.registry_cache`).

Order, after the signature itself is verified: certificate trust, validity and revocation;
sender binding and state; recipients.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from cryptography import x509

from hub.errors import CertificateRefused, Code, PackageRejected
from hub.registry import pki


@dataclass(frozen=True, kw_only=True, slots=True)
class RegisteredCert:
    fingerprint: bytes
    owner: str
    ca_fingerprint: bytes
    serial: int
    not_before: dt.datetime
    not_after: dt.datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class Closure:
    """An identifier change (QĐ 09/2025/QĐ-TTg): the OrganId closed on ``on``."""

    successor: str
    on: dt.date


@dataclass(frozen=True, kw_only=True, slots=True)
class Snapshot:
    """The registry as the hub last read it (:mod:`hub.registry.registry_cache` keeps it current,
    changing these mappings in place)."""

    agencies: Mapping[str, str] = field(default_factory=dict)
    """OrganId → state (``active`` or ``suspended``)."""
    hosts: Mapping[str, str] = field(default_factory=dict)
    """OrganId → the system that hosts it (version 1: the agency itself)."""
    systems: Mapping[str, str] = field(default_factory=dict)
    """System id → state (``active`` or ``suspended``)."""
    unsigned_accepted: AbstractSet[str] = field(default_factory=frozenset)
    """Systems whose policy accepts packages without an XML-DSig signature
    (``lienthong system policy S --unsigned accept``)."""
    closures: Mapping[str, Closure] = field(default_factory=dict)
    """Closed OrganIds (from their closing date on) and their successors."""
    certificates: Mapping[bytes, RegisteredCert] = field(default_factory=dict)
    trusted: Mapping[bytes, x509.Certificate] = field(default_factory=dict)
    revoked: Mapping[bytes, frozenset[int]] = field(default_factory=dict)
    """CA fingerprint → serials of the certificates its CRLs revoke."""
    crl_next_update: Mapping[bytes, dt.datetime | None] = field(default_factory=dict)
    """CA fingerprint → when its latest loaded CRL says the next one is due (CAs with a CRL)."""
    stale_crl: str = "refuse"
    """What a CRL past its nextUpdate means: ``refuse`` packages signed under that CA, or
    ``warn`` (accept, and show the stale CRL in metrics and on the dashboard)."""

    def crl_is_stale(self, ca_fingerprint: bytes, now: dt.datetime) -> dt.datetime | None:
        """When the CA's CRL went stale, or None while it is fresh (or the CA has none)."""
        due = self.crl_next_update.get(ca_fingerprint)
        return due if due is not None and due < now else None

    def is_revoked(self, ca_fingerprint: bytes, serial: int) -> bool:
        return serial in self.revoked.get(ca_fingerprint, ())

    def system_of(self, organ_id: str) -> str | None:
        return self.hosts.get(organ_id)

    def closed(self, organ_id: str, today: dt.date) -> Closure | None:
        """The closure in force for ``organ_id`` today, resolved to the last successor of a
        chain of closures (a cycle, which the registry refuses, ends the chain)."""
        closure = self.closures.get(organ_id)
        if closure is None or closure.on > today:
            return None
        seen = {organ_id}
        final = closure.successor
        while final not in seen:
            seen.add(final)
            following = self.closures.get(final)
            if following is None or following.on > today:
                break
            final = following.successor
        return Closure(successor=final, on=closure.on)

    def inbox_for(self, recipient: str, *, receipt: bool, today: dt.date) -> str | None:
        """The system whose inbox a delivery goes to: for a receipt, the submitter itself (a
        system id, or a broker user that is none); otherwise the system hosting the recipient
        now — or, once the recipient is closed, its successor's (nothing is left undelivered
        by an identifier change). None for an OrganId the registry does not know."""
        if receipt:
            return recipient
        closure = self.closed(recipient, today)
        return self.hosts.get(closure.successor if closure is not None else recipient)

    def state_of(self, organ_id: str) -> str | None:
        """``suspended`` when the agency or its system is; None when not registered."""
        state = self.agencies.get(organ_id)
        if state is None:
            return None
        system = self.hosts.get(organ_id)
        if state == "suspended" or (system is not None and self.systems.get(system) == "suspended"):
            return "suspended"
        return "active"


def check_signer(
    cert: x509.Certificate, snapshot: Snapshot, now: dt.datetime, *, fp: bytes | None = None
) -> str:
    """The agency the signer certificate is registered to, or a refusal. ``fp``: the
    certificate's fingerprint, if the caller has it already."""
    fp = pki.fingerprint(cert) if fp is None else fp
    subject = _Subject(cert)  # named only in a refusal: building the name costs more than a check
    registered = snapshot.certificates.get(fp)
    if registered is None:
        try:
            # a copy taken in one C call: the event loop may change the mapping meanwhile
            trusted = tuple(snapshot.trusted.values())
            pki.check_chain(cert, trusted=trusted, now=now)
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
    if snapshot.is_revoked(registered.ca_fingerprint, registered.serial):
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


class _Subject:
    """A certificate's subject as RFC 4514, made when a message needs it."""

    def __init__(self, cert: x509.Certificate) -> None:
        self._cert = cert

    def __str__(self) -> str:
        return self._cert.subject.rfc4514_string()


def bind_sender(
    *, claimed: str, submitter: str, owner: str, snapshot: Snapshot, today: dt.date
) -> None:
    """The authenticated system (broker user, gateway token, national-SDK system id) must host
    From/OrganId, and the signing certificate must be registered to that OrganId; then the
    sender must be open (not closed by an identifier change) and active."""
    host = snapshot.system_of(claimed)
    if host is None:
        raise PackageRejected(Code.SENDER_MISMATCH, f"{claimed} is not a registered agency")
    if host != submitter:
        hosted = "" if host == claimed else f", which system {host} hosts,"
        raise PackageRejected(
            Code.SENDER_MISMATCH,
            f"the package says it is from {claimed}{hosted} but was submitted by {submitter}; "
            "a system submits only the packages of the agencies it hosts",
        )
    if owner != claimed:
        raise PackageRejected(
            Code.SENDER_MISMATCH,
            f"the package says it is from {claimed} but is signed with a certificate registered "
            f"to {owner} (submitted by {submitter})",
        )
    closure = snapshot.closed(claimed, today)
    if closure is not None:
        raise PackageRejected(
            Code.SENDER_CLOSED,
            f"{claimed} was closed on {closure.on:%Y-%m-%d} by an identifier change "
            f"(QĐ 09/2025/QĐ-TTg); its successor is {closure.successor}: send as "
            f"{closure.successor}",
        )
    if snapshot.state_of(claimed) == "suspended":
        which = (
            f"agency {claimed}"
            if snapshot.agencies.get(claimed) == "suspended"
            else f"system {host}, which hosts {claimed},"
        )
        raise PackageRejected(
            Code.SENDER_SUSPENDED,
            f"{which} is suspended: the hub takes no new submissions from it; "
            "contact the hub's operators",
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class Addressed:
    """Who gets a package: each recipient as resolved, and the closed ids it was sent to."""

    recipients: tuple[str, ...]
    aliases: Mapping[str, str] = field(default_factory=dict)
    """Successor → the closed OrganId the package named (``x-addressed-to``)."""
    note: str = ""
    """For the receipt's Detail: which closed ids went to which successors."""


def resolve_recipients(recipients: Iterable[str], snapshot: Snapshot, today: dt.date) -> Addressed:
    """Closed recipients replaced by their (last) successor, then :func:`check_recipients`."""
    resolved: list[str] = []
    aliases: dict[str, str] = {}
    notes: list[str] = []
    for recipient in dict.fromkeys(recipients):
        closure = snapshot.closed(recipient, today)
        if closure is None:
            resolved.append(recipient)
        else:
            resolved.append(closure.successor)
            aliases.setdefault(closure.successor, recipient)
            notes.append(
                f"{recipient} was closed on {closure.on:%Y-%m-%d}: delivered to its successor "
                f"{closure.successor}"
            )
    final = tuple(dict.fromkeys(resolved))
    check_recipients(final, snapshot)
    return Addressed(recipients=final, aliases=aliases, note="".join("; " + n for n in notes))


def check_recipients(recipients: Iterable[str], snapshot: Snapshot) -> None:
    """Every recipient registered (``RECIPIENT_UNKNOWN`` for all of them first), then active
    (an agency whose system is suspended counts as suspended)."""
    wanted = list(dict.fromkeys(recipients))
    unknown = [r for r in wanted if r not in snapshot.agencies]
    if unknown:
        raise PackageRejected(
            Code.RECIPIENT_UNKNOWN,
            f"recipient(s) {', '.join(unknown)} are not registered with this hub; check To/OrganId",
        )
    suspended = [r for r in wanted if snapshot.state_of(r) == "suspended"]
    if suspended:
        raise PackageRejected(
            Code.RECIPIENT_SUSPENDED,
            f"recipient(s) {', '.join(suspended)} are suspended and take no new packages",
        )
