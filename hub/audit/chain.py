"""The hash chain over the event log, and the Merkle tree that seals its heads — pure functions.

Every event is a *link* in one chain (an agency's OrganId, or ``hub``). A link's hash is

    hash = SHA-256(prev_hash ‖ SHA-256(content))

where ``content`` is the link's canonical JSON (sorted keys, no spaces, UTF-8) of chain, kind,
document_id, organ_id, actor, payload and at (UTC, microseconds), and the first link's
``prev_hash`` is 32 zero bytes. ``seq`` numbers the links but is not hashed: PostgreSQL assigns
it in the same statement that computes the hash (SHA-256 in SQL, the content digest from here),
and the order it gives is checked through ``prev_hash`` anyway. Changing, inserting or
deleting a link breaks every later hash.

A *seal* commits the head (seq, hash) of every chain into one Merkle root (RFC 6962 hashing:
leaves ``SHA-256(0x00 ‖ leaf)``, nodes ``SHA-256(0x01 ‖ left ‖ right)``), chains seals to each
other, and is signed by the hub. An evidence bundle carries one chain's audit path to the root,
so it proves its links without showing anyone else's heads.

The same code checks the database (``lienthong audit verify``) and a bundle offline
(``lienthong evidence verify``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any

GENESIS = bytes(32)


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
"""What ``json.dumps`` with these options builds on every call, built once."""


def canonical(value: object) -> bytes:
    """The one byte form hashed and signed everywhere: sorted keys, no spaces, UTF-8."""
    return _CANONICAL.encode(value).encode()


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def timestamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True, kw_only=True, slots=True)
class Link:
    """One event as the chain sees it."""

    chain: str
    kind: str
    document_id: str | None
    organ_id: str | None
    actor: str | None
    payload: Mapping[str, Any]
    at: str
    seq: int = 0
    """The link's number in its chain (not part of its content)."""

    def content(self) -> bytes:
        return canonical({k: v for k, v in self.as_dict().items() if k != "seq"})

    def digest(self) -> bytes:
        return sha256(self.content())

    def as_dict(self) -> dict[str, Any]:
        return {
            "chain": self.chain,
            "seq": self.seq,
            "kind": self.kind,
            "document_id": self.document_id,
            "organ_id": self.organ_id,
            "actor": self.actor,
            "payload": dict(self.payload),
            "at": self.at,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Link:
        return cls(
            chain=str(d["chain"]),
            seq=int(d["seq"]),
            kind=str(d["kind"]),
            document_id=d.get("document_id"),
            organ_id=d.get("organ_id"),
            actor=d.get("actor"),
            payload=dict(d.get("payload") or {}),
            at=str(d["at"]),
        )


def content_with(link: Link, payload: str) -> bytes:
    """``link.content()`` with the payload's canonical JSON already made (``payload``): the
    same bytes — the keys in sorted order, each value as :func:`canonical` writes it — with the
    payload serialised once for both the row and the hash (tests compare the two)."""
    text = ",".join(
        (
            '{"actor":' + _json(link.actor),
            '"at":' + _json(link.at),
            '"chain":' + _json(link.chain),
            '"document_id":' + _json(link.document_id),
            '"kind":' + _json(link.kind),
            '"organ_id":' + _json(link.organ_id),
            '"payload":' + payload + "}",
        )
    )
    return text.encode()


def _json(value: str | None) -> str:
    """``json.dumps(value, ensure_ascii=False)`` for a string or None, without building an
    encoder per call: the standard library's own string encoder (~0.15 µs against 1.6)."""
    return "null" if value is None else encode_basestring(value)


def next_hash(prev_hash: bytes, digest: bytes) -> bytes:
    return sha256(prev_hash + digest)


# --- Merkle tree over chain heads (RFC 6962, section 2.1) -------------------------------------


def head_leaf(chain: str, seq: int, head: bytes) -> bytes:
    return canonical({"chain": chain, "seq": seq, "hash": head.hex()})


def _leaf_hash(leaf: bytes) -> bytes:
    return sha256(b"\x00" + leaf)


def _node(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right)


def _split(n: int) -> int:
    """The largest power of two smaller than n (n ≥ 2)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    if not leaves:
        return sha256(b"")
    if len(leaves) == 1:
        return _leaf_hash(leaves[0])
    k = _split(len(leaves))
    return _node(merkle_root(leaves[:k]), merkle_root(leaves[k:]))


def merkle_path(leaves: Sequence[bytes], index: int) -> list[str]:
    """The audit path of ``leaves[index]``: sibling hashes from the leaf up, as hex."""
    if len(leaves) <= 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*merkle_path(leaves[:k], index), merkle_root(leaves[k:]).hex()]
    return [*merkle_path(leaves[k:], index - k), merkle_root(leaves[:k]).hex()]


def root_from_path(leaf: bytes, index: int, size: int, path: Sequence[str]) -> bytes:
    """Recompute the root from one leaf and its audit path (RFC 6962 / RFC 9162 2.1.3.2)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} outside a tree of {size}")
    fn, sn = index, size - 1
    r = _leaf_hash(leaf)
    for sibling_hex in path:
        sibling = bytes.fromhex(sibling_hex)
        if sn == 0:
            raise ValueError("the audit path is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = _node(sibling, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = _node(r, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ValueError("the audit path is shorter than the tree is deep")
    return r


# --- Seals ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Head:
    chain: str
    seq: int
    hash: bytes


def heads_leaves(heads: Sequence[Head]) -> list[bytes]:
    """Leaves in the one order every party uses: by chain name."""
    return [head_leaf(h.chain, h.seq, h.hash) for h in sorted(heads, key=lambda h: h.chain)]


def seal_body(*, seq: int, at: str, prev: bytes, root: bytes, size: int) -> bytes:
    """The bytes the hub signs for a seal."""
    return canonical(
        {"seal": seq, "at": at, "prev": prev.hex(), "root": root.hex(), "chains": size}
    )


def parse_seal_body(body: bytes) -> dict[str, Any]:
    value = json.loads(body)
    if not isinstance(value, dict) or {"seal", "at", "prev", "root", "chains"} - value.keys():
        raise ValueError("not a seal body")
    return value
