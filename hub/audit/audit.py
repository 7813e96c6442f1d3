"""``lienthong audit verify``: walk every chain and every seal, and name the first broken link.

The checks are pure (:class:`ChainWalk`, :func:`check_seals`) so the same code serves the
database walk here and the offline check of an evidence bundle (:mod:`hub.audit.evidence`).

What each finding means:

- a link whose content no longer matches its hash was **changed**;
- a gap in a chain's numbering means links were **deleted**;
- a link whose ``prev_hash`` is not its predecessor's hash was **inserted** or moved;
- a chain that ends before (or after) its recorded head lost (or gained) its last links;
- a seal whose committed head differs from the log means the chain was **rewritten** after
  it was sealed — the one thing a clever attacker with write access can do without breaking
  the hashes, and the reason seals exist.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

from hub.audit import chain
from hub.audit.seal import heads_from_json
from hub.db import DB, Q
from hub.errors import CertificateRefused
from hub.registry import pki
from hub.registry.registry import trusted_cas


@dataclass(frozen=True, kw_only=True, slots=True)
class StoredLink:
    link: chain.Link
    prev_hash: bytes | None
    hash: bytes | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Finding:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def _short(h: bytes) -> str:
    return h.hex()[:16] + "…"


@dataclass(kw_only=True, slots=True)
class ChainWalk:
    """Feed one chain's links in seq order; collects findings."""

    name: str
    sealed: Mapping[int, Sequence[tuple[int, bytes]]] = field(default_factory=dict)
    """seq → [(seal number, the hash that seal committed for this link)]."""
    findings: list[Finding] = field(default_factory=list)
    links: int = 0
    unchained: int = 0
    last_seq: int = 0
    last_hash: bytes = chain.GENESIS
    _hashed: int = 0

    def _find(self, seq: int, what: str) -> None:
        self.findings.append(Finding(where=f"chain {self.name} link {seq}", what=what))

    def feed(self, stored: StoredLink) -> None:
        seq = stored.link.seq
        self.links += 1
        gap = seq != self.last_seq + 1
        if gap:
            if seq > self.last_seq + 1:
                missing = (
                    f"link {self.last_seq + 1} is"
                    if seq == self.last_seq + 2
                    else f"links {self.last_seq + 1} to {seq - 1} are"
                )
                self._find(seq, f"{missing} missing before it (deleted from the log)")
            else:
                self._find(seq, f"out of order after link {self.last_seq}")
        if stored.hash is None or stored.prev_hash is None:
            if self._hashed:
                self._find(seq, "has no hash although earlier links do (its hash was removed)")
            else:
                self.unchained += 1
            self.last_seq = seq
            return
        recomputed = chain.next_hash(stored.prev_hash, stored.link.digest())
        if recomputed != stored.hash:
            self._find(
                seq,
                f"was changed: its content hashes to {_short(recomputed)}, the log says "
                f"{_short(stored.hash)} ({stored.link.kind}, document {stored.link.document_id})",
            )
        elif stored.prev_hash != self.last_hash and not gap:
            self._find(
                seq,
                f"does not follow link {self.last_seq}: it names {_short(stored.prev_hash)} as its "
                f"predecessor, link {self.last_seq} is {_short(self.last_hash)} "
                "(a link was inserted or replaced here)",
            )
        for seal_no, committed in self.sealed.get(seq, ()):
            if committed != stored.hash:
                self._find(
                    seq,
                    f"seal {seal_no} committed this link as {_short(committed)}, the log now has "
                    f"{_short(stored.hash)} (the chain was rewritten after it was sealed)",
                )
        self._hashed += 1
        self.last_seq = seq
        self.last_hash = stored.hash

    def finish(self, head: chain.Head | None) -> None:
        for seq, seals in self.sealed.items():
            if seq > self.last_seq:
                self._find(
                    seq,
                    f"is missing: seal {seals[0][0]} committed the chain up to it, the log ends at "
                    f"link {self.last_seq} (links were deleted from the end)",
                )
        if head is None:
            if self.links:
                self.findings.append(
                    Finding(where=f"chain {self.name}", what="has links but no recorded head")
                )
            return
        if head.seq > self.last_seq:
            self._find(
                head.seq,
                f"is missing: the chain's head is link {head.seq}, the log ends at link "
                f"{self.last_seq} (links were deleted from the end)",
            )
        elif head.seq < self.last_seq:
            self._find(
                self.last_seq,
                f"is past the chain's recorded head (link {head.seq}): written outside the hub",
            )
        elif self._hashed and head.hash != self.last_hash:
            self._find(head.seq, "differs from the chain's recorded head hash")


# --- seals ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class SealRecord:
    seq: int
    body: bytes
    heads: list[chain.Head]
    signature: bytes
    certificate: bytes


def check_seal_signature(
    record: SealRecord, trusted: Sequence[x509.Certificate], where: str
) -> list[Finding]:
    found = []
    try:
        cert = x509.load_der_x509_certificate(record.certificate)
    except ValueError as exc:
        return [Finding(where=where, what=f"its certificate cannot be read ({exc})")]
    try:
        body = chain.parse_seal_body(record.body)
        signed_at = dt.datetime.fromisoformat(str(body["at"]))
    except ValueError as exc:
        return [Finding(where=where, what=f"its signed body cannot be read ({exc})")]
    if not pki.verify_bytes(cert, record.signature, record.body):
        found.append(
            Finding(
                where=where,
                what="its signature does not verify with the hub certificate it carries "
                "(the seal was changed)",
            )
        )
    try:
        pki.check_chain(cert, trusted=trusted, now=signed_at)
    except CertificateRefused as exc:
        found.append(Finding(where=where, what=f"signed by a certificate not trusted: {exc}"))
    return found


def check_seal(record: SealRecord, prev_body: bytes | None, where: str) -> list[Finding]:
    """A seal's body against its heads and its predecessor (the signature is checked apart)."""
    found = []
    try:
        body = chain.parse_seal_body(record.body)
    except ValueError as exc:
        return [Finding(where=where, what=f"its signed body cannot be read ({exc})")]
    if body["seal"] != record.seq:
        found.append(Finding(where=where, what=f"its body says it is seal {body['seal']}"))
    expected_prev = chain.GENESIS if prev_body is None else chain.sha256(prev_body)
    if body["prev"] != expected_prev.hex():
        found.append(
            Finding(
                where=where,
                what="does not follow the seal before it (a seal was removed, replaced or "
                "inserted)",
            )
        )
    root = chain.merkle_root(chain.heads_leaves(record.heads))
    if body["root"] != root.hex() or body["chains"] != len(record.heads):
        found.append(
            Finding(where=where, what="the chain heads stored with it are not the ones it signed")
        )
    return found


def check_seals(
    records: Iterable[SealRecord], trusted: Sequence[x509.Certificate]
) -> tuple[list[Finding], dict[str, dict[int, list[tuple[int, bytes]]]]]:
    """Findings, and what the seals committed: chain → seq → [(seal, hash)]."""
    findings: list[Finding] = []
    committed: dict[str, dict[int, list[tuple[int, bytes]]]] = {}
    prev: SealRecord | None = None
    for record in records:
        where = f"seal {record.seq}"
        expected = 1 if prev is None else prev.seq + 1
        if record.seq != expected:
            findings.append(Finding(where=where, what=f"seal {expected} is missing before it"))
        signature_findings = check_seal_signature(record, trusted, where)
        findings += signature_findings
        if not any("cannot be read" in f.what for f in signature_findings):
            findings += check_seal(record, None if prev is None else prev.body, where)
        for head in record.heads:
            if head.hash != chain.GENESIS:
                committed.setdefault(head.chain, {}).setdefault(head.seq, []).append(
                    (record.seq, head.hash)
                )
        prev = record
    return findings, committed


# --- the database walk ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class AuditReport:
    chains: int
    links: int
    unchained: int
    seals: int
    last_seal_at: str | None
    findings: tuple[Finding, ...]
    restores: tuple[tuple[str, str], ...] = ()
    """(when restored, when the backup was taken) of each ``lienthong restore``."""

    @property
    def ok(self) -> bool:
        return not self.findings


def stored_link(row: Mapping[str, Any]) -> StoredLink:
    created = row["created_at"]
    assert isinstance(created, dt.datetime)
    payload = row["payload"]
    prev, hash_ = row["prev_hash"], row["hash"]
    return StoredLink(
        link=chain.Link(
            chain=str(row["chain"]),
            seq=int(str(row["seq"])),
            kind=str(row["kind"]),
            document_id=row["document_id"],
            organ_id=row["organ_id"],
            actor=row["actor"],
            payload=json.loads(str(payload)) if payload is not None else {},
            at=chain.timestamp(created),
        ),
        prev_hash=bytes(prev) if isinstance(prev, bytes | bytearray | memoryview) else None,
        hash=bytes(hash_) if isinstance(hash_, bytes | bytearray | memoryview) else None,
    )


def seal_record(row: Mapping[str, Any]) -> SealRecord:
    return SealRecord(
        seq=int(str(row["seq"])),
        body=bytes(row["body"]),
        heads=heads_from_json(row["heads"]),
        signature=bytes(row["signature"]),
        certificate=bytes(row["certificate"]),
    )


async def verify(db: DB, *, walked: Callable[[int], None] = lambda _: None) -> AuditReport:
    """Walk the whole log in one consistent snapshot; ``walked`` is told how many links have
    been read, every few thousand."""
    async with db.transaction(isolation="repeatable_read", readonly=True):
        trusted = await trusted_cas(db, ever=True)
        seals = [seal_record(r) for r in await db.fetch(Q.seals_all)]
        findings, committed = check_seals(seals, trusted)
        heads = {
            r["chain"]: chain.Head(chain=r["chain"], seq=r["seq"], hash=bytes(r["hash"]))
            for r in await db.fetch(Q.chain_heads)
        }
        walks: dict[str, ChainWalk] = {}
        walk: ChainWalk | None = None
        read = 0
        async for row in db.cursor(Q.events_walk, prefetch=2000):
            read += 1
            if read % 5000 == 0:
                walked(read)
            name = row["chain"]
            if walk is None or walk.name != name:
                walk = walks[name] = ChainWalk(name=name, sealed=committed.get(name, {}))
            walk.feed(stored_link(row))
        chain_findings: list[Finding] = []
        for name in sorted(walks.keys() | heads.keys() | committed.keys()):
            w = walks.get(name) or ChainWalk(name=name, sealed=committed.get(name, {}))
            w.finish(heads.get(name))
            chain_findings += w.findings
        restores = tuple(
            (r["created_at"].isoformat(), str(json.loads(r["payload"]).get("taken_at")))
            for r in await db.fetch(Q.restores)
        )
    last_at = None
    if seals:
        try:
            last_at = str(chain.parse_seal_body(seals[-1].body).get("at"))
        except ValueError:
            last_at = None  # reported among the findings
    return AuditReport(
        chains=len(walks),
        links=sum(w.links for w in walks.values()),
        unchained=sum(w.unchained for w in walks.values()),
        seals=len(seals),
        last_seal_at=last_at,
        findings=tuple(chain_findings + findings),
        restores=restores,
    )
