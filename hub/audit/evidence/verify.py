"""Checking an evidence bundle offline (``lienthong evidence verify``): nothing but the bundle
and the CA certificates the checker trusts."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

from hub.audit import chain
from hub.audit.evidence.bundle import MANIFEST, MANIFEST_SIG
from hub.check import signature_shape, verification, xmlsafe
from hub.check.decision import TRANSPORT
from hub.check.xmldsig import DS_NS
from hub.errors import CertificateRefused, HubError, PackageRejected
from hub.registry import pki


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
        element = signature_shape.locate(root)
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
    element = root.find(f"{{{DS_NS}}}Signature")
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
        link = outcomes.get(int(item.get("package", -1)))
        if item.get("file") is None and item.get("not_kept"):
            name = f"package {item.get('package')}"
            if link is None:
                report.problems.append(f"{name}: no verified chain link records its outcome")
                continue
            where = f"chain {link.chain} link {link.seq}"
            if item.get("sha256") != link.payload.get("digest"):
                report.problems.append(f"{name}: its SHA-256 is not the one recorded in {where}")
                continue
            report.notes.append(
                f"{name} ({item.get('outcome')}): its bytes are not in the bundle — "
                f"{item.get('not_kept')}; its SHA-256 {item.get('sha256')} is recorded in {where}"
                ": bytes from elsewhere can be checked against it"
            )
        else:
            name = str(item.get("file"))
            data = files.get(name)
            if data is None:
                report.problems.append(f"{name}: missing from the bundle")
                continue
            if link is None:
                report.problems.append(f"{name}: no verified chain link records its outcome")
                continue
            where = f"chain {link.chain} link {link.seq}"
            if not _check_package(item, name, data, link, where, trusted, report):
                continue
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


def _check_package(
    item: Mapping[str, Any],
    name: str,
    data: bytes,
    link: chain.Link,
    where: str,
    trusted: Sequence[x509.Certificate],
    report: BundleReport,
) -> bool:
    """A package in the bundle against its outcome's link: digest, then signature."""
    if chain.sha256(data).hex() != link.payload.get("digest"):
        report.problems.append(f"{name}: its SHA-256 is not the one recorded in {where}")
        return False
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
                report.notes.append(f"{name}: signer {signer.subject.rfc4514_string()}: {anchor}")
            report.checked.append(f"{name}: recorded in {where}, signature verifies ({anchor})")
    else:
        report.checked.append(f"{name}: recorded as rejected ({item.get('code')}) in {where}")
    return True


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
