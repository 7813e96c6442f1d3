"""The hub's receipt for one submission (``urn:lienthong:receipt:1``), built and signed. Pure."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from lxml import etree

from hub.check import xmlsafe
from hub.check.schema import RECEIPT_NS, load
from hub.check.signing import sign_own
from hub.errors import Code, readable
from hub.registry.pki import PrivateKey

_R = f"{{{RECEIPT_NS}}}"


@dataclass(frozen=True, kw_only=True, slots=True)
class ReceiptFacts:
    message_id: str
    submitter: str
    kind: str | None
    document_id: str | None
    code: Code | None
    """``None`` when accepted."""
    detail: str
    digest: bytes
    timestamp: dt.datetime
    recipients: Sequence[str] = ()
    assurance: str | None = None
    """For an accepted package: ``signature`` (a verified XML-DSig signature) or ``transport``
    (unsigned, accepted on the authority of its system's authentication)."""

    @property
    def outcome(self) -> str:
        return "accepted" if self.code is None else "rejected"


@dataclass(frozen=True, kw_only=True, slots=True)
class HubSigner:
    key: PrivateKey
    cert: x509.Certificate


def build(facts: ReceiptFacts) -> etree._Element:
    root = etree.Element(_R + "Receipt", nsmap={None: RECEIPT_NS})  # type: ignore[dict-item]

    def add(name: str, text: str) -> etree._Element:
        element = etree.SubElement(root, _R + name)
        element.text = readable(text)  # a message id or detail XML cannot hold is not a crash
        return element

    add("MessageId", facts.message_id)
    if facts.document_id is not None:
        add("DocumentId", facts.document_id)
    add("Submitter", facts.submitter)
    if facts.kind is not None:
        add("Kind", facts.kind)
    add("Outcome", facts.outcome)
    if facts.code is not None:
        add("Code", facts.code.value)
    add("Detail", facts.detail)
    add(
        "Timestamp",
        facts.timestamp.astimezone(dt.UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
    )
    add("SubmissionDigest", base64.b64encode(facts.digest).decode("ascii"))
    if facts.code is None and facts.recipients:
        recipients = etree.SubElement(root, _R + "Recipients")
        for organ in facts.recipients:
            etree.SubElement(recipients, _R + "OrganId").text = organ
    if facts.code is None and facts.assurance is not None:
        add("Assurance", facts.assurance)
    return root


def sign(facts: ReceiptFacts, signer: HubSigner) -> bytes:
    return sign_own(build(facts), signer.key, signer.cert)


def validate(xml: bytes) -> None:
    """Check a receipt against schemas/receipt.xsd (tests and the SDK use it)."""
    parser = xmlsafe.parser(huge_tree=False)
    load("receipt.xsd").assertValid(etree.fromstring(xml, parser))
