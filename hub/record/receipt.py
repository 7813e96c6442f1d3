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
from hub.check.signing import sign_written
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
    """The receipt as a tree (what :func:`sign` writes, signed)."""
    root = etree.Element(_R + "Receipt", nsmap={None: RECEIPT_NS})  # type: ignore[dict-item]
    for name, text in _fields(facts):
        if name == "Recipients":
            recipients = etree.SubElement(root, _R + "Recipients")
            for organ in facts.recipients:
                etree.SubElement(recipients, _R + "OrganId").text = readable(organ)
        else:
            # a message id or detail XML cannot hold is not a crash
            etree.SubElement(root, _R + name).text = readable(text)
    return root


def sign(facts: ReceiptFacts, signer: HubSigner) -> bytes:
    """The receipt, signed: :func:`build`'s tree as :func:`hub.check.signing.sign_own` would
    sign and serialise it, written from its fields instead (one is signed per submission, on
    the event loop; this takes half the time)."""
    texts = [(name, readable(text)) for name, text in _fields(facts)]
    organs = [readable(organ) for organ in facts.recipients]
    content = _written(texts, organs, _SERIALISED)
    canonical = _written(texts, organs, _CANONICAL)
    return sign_written(_START, _END, content, canonical, signer.key, signer.cert)


_START = f'<Receipt xmlns="{RECEIPT_NS}">'
_END = "</Receipt>"
_SERIALISED = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
"""Text as libxml2 writes it."""
_CANONICAL = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#xD;"})
"""Text as canonical XML writes it."""


def _written(texts: list[tuple[str, str]], organs: list[str], escape: dict[int, str]) -> str:
    """:func:`build`'s elements, in its order, their (readable) text escaped by ``escape``."""
    parts: list[str] = []
    for name, text in texts:
        if name == "Recipients":
            text = "".join(f"<OrganId>{o.translate(escape)}</OrganId>" for o in organs)
            parts.append(f"<Recipients>{text}</Recipients>")
        else:
            parts.append(f"<{name}>{text.translate(escape)}</{name}>")
    return "".join(parts)


def _fields(facts: ReceiptFacts) -> list[tuple[str, str]]:
    """The receipt's elements and their text, in order (``Recipients``: its OrganIds)."""
    fields = [("MessageId", facts.message_id)]
    if facts.document_id is not None:
        fields.append(("DocumentId", facts.document_id))
    fields.append(("Submitter", facts.submitter))
    if facts.kind is not None:
        fields.append(("Kind", facts.kind))
    fields.append(("Outcome", facts.outcome))
    if facts.code is not None:
        fields.append(("Code", facts.code.value))
    fields += [
        ("Detail", facts.detail),
        ("Timestamp", _timestamp(facts.timestamp)),
        ("SubmissionDigest", base64.b64encode(facts.digest).decode("ascii")),
    ]
    if facts.code is None and facts.recipients:
        fields.append(("Recipients", ""))
    if facts.code is None and facts.assurance is not None:
        fields.append(("Assurance", facts.assurance))
    return fields


def _timestamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def validate(xml: bytes) -> None:
    """Check a receipt against schemas/receipt.xsd (tests and the SDK use it)."""
    parser = xmlsafe.parser(huge_tree=False)
    load("receipt.xsd").assertValid(etree.fromstring(xml, parser))
