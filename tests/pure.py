"""Signed packages and a registry snapshot without any server: for the pure checks."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from lxml import etree
from signxml.algorithms import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConstructionMethod,
    SignatureMethod,
)
from signxml.signer import XMLSigner

from adapters.sdk import Attachment, DocumentSpec, Organization, build_document
from hub.check import decision, trust
from hub.check.schema import EDXML_NS, Kind
from hub.check.signing import place_holder
from hub.registry import issuing, pki

N = f"{{{EDXML_NS}}}"
SENDER = "000.00.00.G22"
RECIPIENT = "000.00.00.H41"
INCLUSIVE = CanonicalizationMethod.CANONICAL_XML_1_0
"""What the national tooling's packages declare (shared/samples/vpcp)."""


@dataclass(frozen=True)
class Keys:
    ca_cert: x509.Certificate
    key: pki.PrivateKey
    cert: x509.Certificate

    def snapshot(self) -> trust.Snapshot:
        fp = pki.fingerprint(self.cert)
        return trust.Snapshot(
            agencies={SENDER: "active", RECIPIENT: "active"},
            hosts={SENDER: SENDER, RECIPIENT: RECIPIENT},
            systems={SENDER: "active", RECIPIENT: "active"},
            certificates={
                fp: trust.RegisteredCert(
                    fingerprint=fp,
                    owner=SENDER,
                    ca_fingerprint=pki.fingerprint(self.ca_cert),
                    serial=self.cert.serial_number,
                    not_before=self.cert.not_valid_before_utc,
                    not_after=self.cert.not_valid_after_utc,
                )
            },
            trusted={pki.fingerprint(self.ca_cert): self.ca_cert},
        )


def keys() -> Keys:
    ca_key, ca_cert = issuing.make_ca("test CA")
    key, cert = issuing.issue(
        ca_key, ca_cert, issuing.IssueRequest(common_name="a", organ_id=SENDER)
    )
    return Keys(ca_cert=ca_cert, key=key, cert=cert)


def unsigned(**fields: object) -> etree._Element:
    fields.setdefault("subject", "V/v thử nghiệm")
    fields.setdefault("attachments", [Attachment(name="a.pdf", content=b"%PDF-1.4 x")])
    spec = DocumentSpec(
        sender=Organization(organ_id=SENDER, name="a"),
        recipients=[Organization(organ_id=RECIPIENT, name="b")],
        document_id=f"{SENDER},2026/12/05,{uuid.uuid4().hex[:6]}/CV",
        **fields,  # type: ignore[arg-type]
    )
    return etree.fromstring(build_document(spec))


def header(root: etree._Element) -> etree._Element:
    found = root.find(f"{N}edXMLEnvelope/{N}edXMLHeader")
    assert found is not None
    return found


def message_header(root: etree._Element) -> etree._Element:
    found = header(root).find(f"{N}MessageHeader")
    assert found is not None
    return found


def sign(
    root: etree._Element,
    k: Keys,
    *,
    c14n: CanonicalizationMethod = INCLUSIVE,
    after: Callable[[etree._Element], None] | None = None,
) -> bytes:
    """Sign as a Java signer does (inclusive C14N by default); ``after`` changes the signed
    tree before it is serialised (what an attacker does after signing)."""
    place_holder(header(root))
    signer = XMLSigner(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=c14n,
    )
    signed = signer.sign(root, key=k.key, cert=[k.cert])
    if after is not None:
        after(signed)
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def decide(
    data: bytes,
    snapshot: trust.Snapshot,
    *,
    kind: Kind = Kind.EDOC,
    submitter: str = SENDER,
) -> decision.Checked | decision.Rejection:
    submission = decision.Submission(
        submitter=submitter, message_id=f"m-{uuid.uuid4().hex}", kind=kind, body=data
    )
    return decision.decide(submission, snapshot, now=dt.datetime.now(dt.UTC), max_bytes=1 << 26)
