"""The hub's face to the systems that connect to it: what ``adapters`` (the Python SDK, the
bridge, the agency commands) may use of the hub, and nothing else — the contract's names
(exchanges, headers, namespaces, codes), its value objects, and the XML and XML-DSig
operations a system needs to build, sign and verify packages exactly as the hub does.
``tests/test_layers.py`` holds ``adapters`` to this module (and the configuration, home,
logging and error modules its commands share)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from lxml import etree

from hub.broker.claims import Claim, ClaimError, Tally
from hub.broker.names import (
    ADDRESSED_TO_HEADER,
    DOCUMENT_HEADER,
    RECIPIENT_HEADER,
    SUBMIT_EXCHANGE,
    inbox,
    urgent_inbox,
)
from hub.check import package, verification
from hub.check.package import DocumentPackage, ReceiverChange, Replacement
from hub.check.schema import EDXML_NS, RECEIPT_NS
from hub.check.signature_shape import locate
from hub.check.signing import sign_package
from hub.check.xmldsig import DS_NS
from hub.check.xmlsafe import parser
from hub.errors import Code
from hub.registry.pki import PrivateKey, check_chain, load_certificates, load_private_key

__all__ = [
    "ADDRESSED_TO_HEADER",
    "DOCUMENT_HEADER",
    "DS_NS",
    "EDXML_NS",
    "RECEIPT_NS",
    "RECIPIENT_HEADER",
    "SUBMIT_EXCHANGE",
    "Claim",
    "ClaimError",
    "Code",
    "DocumentPackage",
    "PrivateKey",
    "ReceiverChange",
    "Replacement",
    "SignedDocument",
    "Tally",
    "check_chain",
    "inbox",
    "load_certificates",
    "load_private_key",
    "parser",
    "sign_package",
    "urgent_inbox",
    "verify_document",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class SignedDocument:
    """What a document's signature covers, verified as the hub verifies it."""

    signed_root: etree._Element
    signer: x509.Certificate
    document: DocumentPackage


def verify_document(
    body: bytes, *, trusted: Sequence[x509.Certificate], at: dt.datetime
) -> SignedDocument:
    """Verify a document package's one XML-DSig signature (algorithms, shape, value, the
    signer's chain to ``trusted`` at ``at``) and read the document from what it covers only.
    Raises on any failure (the message says what)."""
    root = etree.fromstring(body, parser())
    # the tree is only read to find the signature: signxml may verify it in place
    verified = verification.verify(body, locate(root), consume_tree=True)
    check_chain(verified.signer, trusted=trusted, now=at)
    return SignedDocument(
        signed_root=verified.signed_root,
        signer=verified.signer,
        document=package.read_document(verified.signed_root),
    )
