"""Evidence bundles: everything about one document, checkable offline by anyone.

``lienthong evidence export DOCUMENT_ID -o FILE.zip`` writes (see docs/AUDIT.md):

- ``packages/NN-kind-outcome.edxml`` — every package about the document, byte for byte as
  submitted (the document, its updates and revocation, every status);
- ``receipts/NN.xml`` — the hub's signed receipt for each of them;
- ``chains/<chain>.json`` — for each chain involved, the links from the first one about the
  document up to a sealed head: links about the document in full, others only as their digest;
- ``seals/<n>.json`` — the seals those heads are in, with each chain's Merkle audit path;
- ``certificates/`` — the hub's certificate and the signers' certificates;
- ``manifest.json`` + ``manifest.sig`` — every file's SHA-256, signed by the hub.

``lienthong evidence verify FILE.zip --ca CA.pem`` needs nothing else: it checks the manifest,
each seal's signature and certificate, each chain up to its sealed head and that head's path
to the seal's root, each package's and receipt's digest against the links that recorded them,
and every XML signature; and it says which file and what is wrong.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from hub import audit, chain, pki, seal, signature, verification, xmlsafe
from hub.db import DB, Q
from hub.decision import SIGNATURE, TRANSPORT
from hub.errors import CertificateRefused, HubError, PackageRejected
from hub.receipt import HubSigner

MANIFEST = "manifest.json"
MANIFEST_SIG = "manifest.sig"
FORMAT = "lienthong-evidence/1"

README = """\
Evidence bundle of the lienthong hub (Trục liên thông văn bản) — {format}

Document {document_id} sent by {sender}; exported {exported_at}.

packages/      every package about the document, byte for byte as submitted
receipts/      the hub's signed receipt for each package (XML-DSig, any implementation verifies)
chains/        the hash-chain links that recorded them, up to a sealed head
seals/         the signed seals (Merkle roots over every chain head) and each chain's audit path
certificates/  the hub's certificate and the signers' certificates
manifest.json  SHA-256 of every file, signed by the hub in manifest.sig

Check it offline with the CA certificate you trust:

    lienthong evidence verify THIS.zip --ca CA.pem

A receipt alone:  xmlsec1 --verify --trusted-pem CA.pem receipts/01.xml
"""


class EvidenceError(HubError):
    """The bundle cannot be made (unknown document, nothing sealed)."""


# --- export -----------------------------------------------------------------------------------


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
        name = f"packages/{n:02d}-{p['kind']}-{p['outcome']}.edxml"
        files[name] = bytes(p["body"])
        receipt_name = f"receipts/{n:02d}.xml"
        if p["receipt"] is not None:
            files[receipt_name] = bytes(p["receipt"])
        listed.append(
            {
                "file": name,
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
                    (SIGNATURE if p["signed"] else TRANSPORT)
                    if p["outcome"] == "accepted"
                    else None
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
        files[f"chains/{name}.json"] = _pretty(
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
        files[f"seals/{record.seq}.json"] = _pretty(
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
    files["document.json"] = _pretty(
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
    manifest = _pretty(
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


def _pretty(value: object) -> bytes:
    return json.dumps(value, indent=1, ensure_ascii=False, sort_keys=True).encode() + b"\n"


# --- verify -----------------------------------------------------------------------------------


@dataclass(kw_only=True, slots=True)
class BundleReport:
    document_id: str | None = None
    sender: str | None = None
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _json(files: Mapping[str, bytes], name: str, report: BundleReport) -> Any:
    try:
        return json.loads(files[name])
    except (KeyError, ValueError, UnicodeDecodeError) as exc:
        report.problems.append(f"{name}: cannot be read as JSON ({exc})")
        return None


def _read_zip(data: bytes, report: BundleReport) -> dict[str, bytes] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as bundle:
            files = {}
            for info in bundle.infolist():
                if info.is_dir():
                    continue
                files[info.filename] = bundle.read(info)
            return files
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        report.problems.append(f"the bundle is damaged and cannot be read as a zip: {exc}")
        return None


def _trusted_cert(
    der_or_pem: bytes, trusted: Sequence[x509.Certificate], what: str, report: BundleReport
) -> x509.Certificate | None:
    try:
        cert = pki.load_certificates(der_or_pem)[0]
    except CertificateRefused as exc:
        report.problems.append(f"{what}: not a certificate ({exc.detail})")
        return None
    try:
        pki.check_chain(cert, trusted=trusted)
    except CertificateRefused as exc:
        report.problems.append(f"{what}: not issued by a CA you trust ({exc.detail})")
        return None
    except ValueError as exc:
        report.problems.append(f"{what}: not a usable certificate ({exc})")
        return None
    return cert


def _check_manifest(
    files: Mapping[str, bytes], trusted: Sequence[x509.Certificate], report: BundleReport
) -> None:
    manifest = _json(files, MANIFEST, report)
    if not isinstance(manifest, dict):
        return
    hub_pem = files.get(str(manifest.get("hub_certificate")))
    if hub_pem is None:
        report.problems.append(f"{MANIFEST}: the hub certificate it names is not in the bundle")
        return
    cert = _trusted_cert(hub_pem, trusted, f"{manifest.get('hub_certificate')}", report)
    try:
        sig = base64.b64decode(files.get(MANIFEST_SIG, b""), validate=False)
    except ValueError:
        sig = b""
    if cert is not None and not pki.verify_bytes(cert, sig, files[MANIFEST]):
        report.problems.append(
            f"{MANIFEST}: the hub's signature ({MANIFEST_SIG}) does not verify — the manifest "
            "or its signature was changed"
        )
    listed = manifest.get("files") or {}
    for name, digest in sorted(listed.items()):
        if name not in files:
            report.problems.append(f"{name}: listed in the manifest but missing from the bundle")
        elif chain.sha256(files[name]).hex() != digest:
            report.problems.append(
                f"{name}: its SHA-256 is not the one in the signed manifest (the file was changed)"
            )
    for name in sorted(files.keys() - listed.keys() - {MANIFEST, MANIFEST_SIG}):
        report.problems.append(f"{name}: not listed in the signed manifest (added to the bundle)")
    report.checked.append(f"manifest: {len(listed)} files, signed by the hub")


def _check_seals(
    files: Mapping[str, bytes], trusted: Sequence[x509.Certificate], report: BundleReport
) -> dict[int, dict[str, Any]]:
    seals: dict[int, dict[str, Any]] = {}
    for name in sorted(n for n in files if n.startswith("seals/")):
        value = _json(files, name, report)
        if not isinstance(value, dict):
            continue
        try:
            body_bytes = str(value["body"]).encode()
            body = chain.parse_seal_body(body_bytes)
            signature_bytes = base64.b64decode(value["signature"])
            cert_der = base64.b64decode(value["certificate"])
        except (KeyError, ValueError) as exc:
            report.problems.append(f"{name}: not a seal ({exc})")
            continue
        cert = _trusted_cert(cert_der, trusted, f"{name}: its certificate", report)
        if cert is not None and not pki.verify_bytes(cert, signature_bytes, body_bytes):
            report.problems.append(f"{name}: the hub's signature over the seal does not verify")
            continue
        seals[int(body["seal"])] = {"body": body, "paths": value.get("paths") or {}, "file": name}
        report.checked.append(f"seal {body['seal']} of {body['at']}: signature and certificate")
    return seals


def _check_chains(
    files: Mapping[str, bytes], seals: Mapping[int, Mapping[str, Any]], report: BundleReport
) -> dict[tuple[str, int], chain.Link]:
    """The verified full links, by (chain, seq)."""
    verified: dict[tuple[str, int], chain.Link] = {}
    for name in sorted(n for n in files if n.startswith("chains/")):
        value = _json(files, name, report)
        if not isinstance(value, dict):
            continue
        try:
            chain_name = str(value["chain"])
            current = bytes.fromhex(str(value["prev_hash"]))
            entries = list(value["links"])
            seal_no = int(value["seal"])
        except (KeyError, ValueError, TypeError) as exc:
            report.problems.append(f"{name}: not a chain segment ({exc})")
            continue
        full: list[chain.Link] = []
        last_seq: int | None = None
        broken = False
        for entry in entries:
            try:
                if "digest" in entry:
                    seq, digest = int(entry["seq"]), bytes.fromhex(str(entry["digest"]))
                else:
                    link = chain.Link.from_dict(entry)
                    if link.chain != chain_name:
                        raise ValueError(f"a link of chain {link.chain}")
                    seq, digest = link.seq, link.digest()
                    full.append(link)
            except (KeyError, ValueError, TypeError) as exc:
                report.problems.append(f"{name}: an entry cannot be read ({exc})")
                broken = True
                break
            if last_seq is not None and seq != last_seq + 1:
                report.problems.append(f"{name}: link {last_seq + 1} is missing before link {seq}")
                broken = True
                break
            last_seq = seq
            current = chain.next_hash(current, digest)
        if broken or last_seq is None:
            continue
        sealed = seals.get(seal_no)
        if sealed is None:
            report.problems.append(f"{name}: seal {seal_no} is not in the bundle (or failed)")
            continue
        path = sealed["paths"].get(chain_name)
        if path is None:
            report.problems.append(f"{sealed['file']}: has no audit path for chain {chain_name}")
            continue
        if int(path["seq"]) != last_seq or path["hash"] != current.hex():
            report.problems.append(
                f"{name}: the links do not hash to the head seal {seal_no} committed (link "
                f"{path['seq']}, {str(path['hash'])[:16]}…; these give link {last_seq}, "
                f"{current.hex()[:16]}…) — a link was changed"
            )
            continue
        try:
            root = chain.root_from_path(
                chain.head_leaf(chain_name, last_seq, current),
                int(path["index"]),
                int(sealed["body"]["chains"]),
                list(path["path"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            report.problems.append(f"{sealed['file']}: the audit path of {chain_name}: {exc}")
            continue
        if root.hex() != sealed["body"]["root"]:
            report.problems.append(
                f"{sealed['file']}: the audit path of chain {chain_name} does not lead to the "
                "signed root"
            )
            continue
        for link in full:
            verified[(chain_name, link.seq)] = link
        report.checked.append(
            f"chain {chain_name}: {len(entries)} links to the head sealed in seal {seal_no}"
        )
    return verified


def _signed_by(data: bytes, what: str, report: BundleReport) -> x509.Certificate | None:
    try:
        root = xmlsafe.parse(data, max_bytes=len(data) + 1).getroot()
        element = signature.locate(root)
        return verification.verify(data, element).signer
    except PackageRejected as exc:
        report.problems.append(f"{what}: its XML signature does not verify ({exc.detail})")
    except HubError as exc:
        report.problems.append(f"{what}: {exc}")
    return None


def _receipt_signature(data: bytes, what: str, report: BundleReport) -> x509.Certificate | None:
    try:
        root = xmlsafe.parse(data, max_bytes=len(data) + 1).getroot()
    except PackageRejected as exc:
        report.problems.append(f"{what}: not a readable receipt ({exc.detail})")
        return None
    element = root.find(f"{{{signature.DS_NS}}}Signature")
    if element is None:
        report.problems.append(f"{what}: has no signature")
        return None
    try:
        return verification.verify(data, element).signer
    except PackageRejected as exc:
        report.problems.append(f"{what}: its XML signature does not verify ({exc.detail})")
    return None


def _check_documents(
    files: Mapping[str, bytes],
    links: Mapping[tuple[str, int], chain.Link],
    trusted: Sequence[x509.Certificate],
    report: BundleReport,
) -> None:
    summary = _json(files, "document.json", report)
    if not isinstance(summary, dict):
        return
    report.document_id = summary.get("document_id")
    report.sender = summary.get("sender")
    outcomes = {
        int(link.payload["package"]): link
        for link in links.values()
        if link.kind in ("accepted", "rejected") and "package" in link.payload
    }
    for item in summary.get("packages") or []:
        name = str(item.get("file"))
        data = files.get(name)
        link = outcomes.get(int(item.get("package", -1)))
        if data is None:
            report.problems.append(f"{name}: missing from the bundle")
            continue
        if link is None:
            report.problems.append(f"{name}: no verified chain link records its outcome")
            continue
        where = f"chain {link.chain} link {link.seq}"
        if chain.sha256(data).hex() != link.payload.get("digest"):
            report.problems.append(f"{name}: its SHA-256 is not the one recorded in {where}")
            continue
        if item.get("outcome") == "accepted" and link.payload.get("assurance") == TRANSPORT:
            report.checked.append(
                f"{name}: recorded in {where}; accepted unsigned (assurance transport: on the "
                f"authority of system {item.get('submitter')}'s authentication), so there is no "
                "signature to verify"
            )
        elif item.get("outcome") == "accepted":
            signer = _signed_by(data, name, report)
            if signer is not None:
                try:
                    pki.check_chain(signer, trusted=trusted)
                    anchor = "from a CA you trust"
                except CertificateRefused:
                    anchor = "its CA is not in the CA file given, so not checked further"
                    report.notes.append(
                        f"{name}: signer {signer.subject.rfc4514_string()}: {anchor}"
                    )
                report.checked.append(f"{name}: recorded in {where}, signature verifies ({anchor})")
        else:
            report.checked.append(f"{name}: recorded as rejected ({item.get('code')}) in {where}")
        receipt_name = item.get("receipt")
        if receipt_name is None:
            continue
        receipt = files.get(str(receipt_name))
        if receipt is None:
            report.problems.append(f"{receipt_name}: missing from the bundle")
            continue
        if chain.sha256(receipt).hex() != link.payload.get("receipt"):
            report.problems.append(
                f"{receipt_name}: its SHA-256 is not the one recorded in {where}"
            )
            continue
        hub_cert = _receipt_signature(receipt, str(receipt_name), report)
        if hub_cert is not None:
            try:
                pki.check_chain(hub_cert, trusted=trusted)
            except CertificateRefused as exc:
                report.problems.append(
                    f"{receipt_name}: signed by a certificate not trusted ({exc.detail})"
                )
                continue
            report.checked.append(f"{receipt_name}: the hub's signature verifies")


def verify(data: bytes, trusted: Sequence[x509.Certificate]) -> BundleReport:
    report = BundleReport()
    files = _read_zip(data, report)
    if files is None:
        return report
    _check_manifest(files, trusted, report)
    seals = _check_seals(files, trusted, report)
    links = _check_chains(files, seals, report)
    _check_documents(files, links, trusted, report)
    return report
