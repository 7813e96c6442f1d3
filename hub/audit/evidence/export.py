"""Making an evidence bundle from the records (``lienthong evidence export``)."""

from __future__ import annotations

import base64
import datetime as dt
import io
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from hub.audit import audit, chain, seal
from hub.audit.evidence.bundle import FORMAT, MANIFEST, MANIFEST_SIG, README, pretty
from hub.check.decision import assurance_of
from hub.db import DB, Q
from hub.errors import EvidenceError
from hub.record.receipt import HubSigner
from hub.registry import pki


def _link_json(stored: audit.StoredLink, *, full: bool) -> dict[str, Any]:
    if full:
        return stored.link.as_dict()
    return {"seq": stored.link.seq, "digest": stored.link.digest().hex()}


async def _find_document(db: DB, document_id: str, sender: str | None) -> Mapping[str, Any]:
    found = [
        r
        for r in await db.fetch(Q.timeline_documents, document_id)
        if sender is None or r["sender"] == sender
    ]
    if not found:
        raise EvidenceError(f"no document {document_id!r}" + (f" from {sender}" if sender else ""))
    if len({r["sender"] for r in found}) > 1:
        senders = ", ".join(sorted({r["sender"] for r in found}))
        raise EvidenceError(
            f"{document_id!r} was sent by several agencies ({senders}): use --sender"
        )
    document: Mapping[str, Any] = found[0]
    return document


def package_bytes(p: Mapping[str, Any]) -> tuple[bytes | None, str | None]:
    """A package's bytes for the bundle, or why the hub no longer holds them: kept in the
    database, read back from the retention archive (checked against the digest), or not
    kept."""
    if p["body"] is not None:
        return bytes(p["body"]), None
    digest = bytes(p["digest"])
    archived = p["body_archive"]
    if archived:
        try:
            data = Path(archived).read_bytes()
        except OSError as exc:
            return None, f"archived to {archived}, which cannot be read now ({exc.strerror})"
        if chain.sha256(data) == digest:
            return data, None
        return None, f"archived to {archived}, which no longer holds the recorded bytes"
    if p["body_dropped_at"] is not None:
        return None, f"dropped by retention on {p['body_dropped_at']:%Y-%m-%d}"
    return None, "a rejected package over 1 MiB: only its digest was kept"


async def export(
    db: DB, document_id: str, signer: HubSigner, *, sender: str | None = None
) -> bytes:
    """The bundle's bytes (a zip). Seals first if the newest links are not sealed yet."""
    document = await _find_document(db, document_id, sender)
    packages = await db.fetch(Q.evidence_packages, document["id"])
    package_ids = [p["id"] for p in packages]
    wanted = await db.fetch(
        Q.evidence_links, package_ids, document["document_id"], document["sender"]
    )
    if not wanted:
        raise EvidenceError(f"no recorded events for {document_id!r}")
    by_chain: dict[str, list[int]] = {}
    for row in wanted:
        by_chain.setdefault(row["chain"], []).append(row["seq"])

    files: dict[str, bytes] = {}
    hub_fp = signer.cert.fingerprint(hashes.SHA256())
    certificates: dict[bytes, x509.Certificate] = {hub_fp: signer.cert}
    listed = []
    for n, p in enumerate(packages, start=1):
        data, not_kept = package_bytes(p)
        name = f"packages/{n:02d}-{p['kind']}-{p['outcome']}.edxml" if data is not None else None
        if name is not None and data is not None:
            files[name] = data
        receipt_name = f"receipts/{n:02d}.xml"
        if p["receipt"] is not None:
            files[receipt_name] = bytes(p["receipt"])
        listed.append(
            {
                "file": name,
                **({"not_kept": not_kept, "sha256": bytes(p["digest"]).hex()} if not_kept else {}),
                "receipt": receipt_name if p["receipt"] is not None else None,
                "package": p["id"],
                "kind": p["kind"],
                "message_id": p["message_id"],
                "submitter": p["submitter"],
                "outcome": p["outcome"],
                "code": p["code"],
                "detail": p["detail"],
                "channel": p["channel"],
                "assurance": (
                    assurance_of(signed=p["signed"]) if p["outcome"] == "accepted" else None
                ),
            }
        )
        if p["signer_pem"]:
            cert = x509.load_pem_x509_certificate(p["signer_pem"].encode())
            certificates[cert.fingerprint(hashes.SHA256())] = cert

    seals_used: dict[int, audit.SealRecord] = {}
    for name, seqs in sorted(by_chain.items()):
        row = await db.fetchrow(Q.seal_covering, name, max(seqs))
        if row is None:
            await seal.seal(db, signer, wait=True)
            row = await db.fetchrow(Q.seal_covering, name, max(seqs))
        if row is None:
            raise EvidenceError(f"chain {name} could not be sealed up to link {max(seqs)}")
        record = audit.seal_record(row)
        seals_used[record.seq] = record
        head = next(h for h in record.heads if h.chain == name)
        segment = [
            audit.stored_link(r)
            for r in await db.fetch(Q.events_segment, name, min(seqs), head.seq)
        ]
        about = set(seqs)
        files[f"chains/{name}.json"] = pretty(
            {
                "chain": name,
                "seal": record.seq,
                "prev_hash": (segment[0].prev_hash or chain.GENESIS).hex(),
                "links": [_link_json(s, full=s.link.seq in about) for s in segment],
            }
        )

    for record in seals_used.values():
        leaves = chain.heads_leaves(record.heads)
        ordered = sorted(record.heads, key=lambda h: h.chain)
        paths = {}
        for index, head in enumerate(ordered):
            if head.chain in by_chain:
                paths[head.chain] = {
                    "index": index,
                    "seq": head.seq,
                    "hash": head.hash.hex(),
                    "path": chain.merkle_path(leaves, index),
                }
        cert = x509.load_der_x509_certificate(record.certificate)
        certificates[cert.fingerprint(hashes.SHA256())] = cert
        files[f"seals/{record.seq}.json"] = pretty(
            {
                "seal": record.seq,
                "body": record.body.decode(),
                "signature": base64.b64encode(record.signature).decode(),
                "certificate": base64.b64encode(record.certificate).decode(),
                "paths": paths,
            }
        )

    for fp, cert in sorted(certificates.items()):
        files[f"certificates/{fp.hex()[:16]}.pem"] = pki.pem(cert).encode()

    exported_at = chain.timestamp(dt.datetime.now(dt.UTC))
    files["document.json"] = pretty(
        {
            "format": FORMAT,
            "document_id": document["document_id"],
            "sender": document["sender"],
            "exported_at": exported_at,
            "packages": listed,
        }
    )
    files["README.txt"] = README.format(
        format=FORMAT,
        document_id=document["document_id"],
        sender=document["sender"],
        exported_at=exported_at,
    ).encode()
    manifest = pretty(
        {
            "format": FORMAT,
            "files": {name: chain.sha256(data).hex() for name, data in sorted(files.items())},
            "hub_certificate": f"certificates/{hub_fp.hex()[:16]}.pem",
        }
    )
    files[MANIFEST] = manifest
    files[MANIFEST_SIG] = base64.b64encode(pki.sign_bytes(signer.key, manifest)) + b"\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as bundle:
        for name, data in sorted(files.items()):
            bundle.writestr(name, data)
    return buffer.getvalue()
