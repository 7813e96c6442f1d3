"""What an agency receives: documents, statuses and receipts, as frozen values."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from hub import contract

NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
RECEIPT_NS = "urn:lienthong:receipt:1"


def _parser() -> etree.XMLParser:
    return contract.parser()


@dataclass(frozen=True, kw_only=True, slots=True)
class Receipt:
    message_id: str
    document_id: str | None
    outcome: str
    code: str | None
    detail: str
    xml: bytes
    recipient: str | None = None
    """``x-recipient``: the submitting agency as the package named it (None if unreadable)."""

    @property
    def accepted(self) -> bool:
        return self.outcome == "accepted"

    @classmethod
    def parse(cls, xml: bytes, *, recipient: str | None = None) -> Receipt:
        root = etree.fromstring(xml, _parser())
        ns = {"r": RECEIPT_NS}
        return cls(
            recipient=recipient,
            message_id=root.findtext("r:MessageId", namespaces=ns) or "",
            document_id=root.findtext("r:DocumentId", namespaces=ns),
            outcome=root.findtext("r:Outcome", namespaces=ns) or "",
            code=root.findtext("r:Code", namespaces=ns),
            detail=root.findtext("r:Detail", namespaces=ns) or "",
            xml=xml,
        )


def _whole(element: etree._Element | None, path: str) -> str | None:
    """The text at ``path``, all of it (``findtext`` stops at a comment)."""
    found = element.find(path) if element is not None else None
    return "".join(str(t) for t in found.itertext()) if found is not None else None


@dataclass(frozen=True, kw_only=True, slots=True)
class Document:
    """A package addressed to us, byte for byte as its sender signed it. Its fields are read
    from what the signature verification returned when ``verified``; otherwise from the bytes,
    and then they are only what the package claims."""

    message_id: str
    sender: str
    document_id: str
    subject: str | None
    business_type: int
    priority: int
    urgent: bool
    body: bytes
    verified: bool
    """Whether the SDK verified the sender's signature against the CAs it trusts."""
    problem: str | None = None
    recipient: str | None = None
    """``x-recipient``: which of the agencies the system hosts the document is for."""
    addressed_to: str | None = None
    """``x-addressed-to``: the closed OrganId the package named, when it came to its successor."""

    @classmethod
    def parse(
        cls,
        message_id: str,
        body: bytes,
        *,
        urgent: bool,
        verified: bool,
        problem: str | None,
        signed_root: etree._Element | None = None,
        recipient: str | None = None,
        addressed_to: str | None = None,
    ) -> Document:
        """``signed_root``: what verification returned (read instead of the bytes)."""
        root = signed_root if signed_root is not None else etree.fromstring(body, _parser())
        e = f"{{{NS}}}"
        header = root.find(f"{e}edXMLEnvelope/{e}edXMLHeader/{e}MessageHeader")
        business = root.find(f"{e}edXMLEnvelope/{e}edXMLHeader/{e}TraceHeaderList/{e}Bussiness")
        assert header is not None
        priority = (_whole(header, f"{e}OtherInfo/{e}Priority") or "").strip()
        kind = (_whole(business, f"{e}BussinessDocType") or "").strip()
        return cls(
            message_id=message_id,
            sender=(_whole(header, f"{e}From/{e}OrganId") or "").strip(),
            document_id=(_whole(header, f"{e}DocumentId") or "").strip(),
            subject=_whole(header, f"{e}Subject"),
            business_type=int(kind) if kind.isdigit() else 0,
            priority=int(priority) if priority.isdigit() else 0,
            urgent=urgent,
            body=body,
            verified=verified,
            problem=problem,
            recipient=recipient,
            addressed_to=addressed_to,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class Status:
    """A status about a document we sent (or, for 13, one we received)."""

    message_id: str
    author: str
    document_sender: str
    document_id: str
    code: str
    description: str | None
    body: bytes
    recipient: str | None = None
    """``x-recipient``: which hosted agency the status is for."""

    @classmethod
    def parse(cls, message_id: str, body: bytes, *, recipient: str | None = None) -> Status:
        root = etree.fromstring(body, _parser())
        e = f"{{{NS}}}"
        header = root.find(f"{e}edXMLEnvelope/{e}edXMLHeader/{e}MessageHeader")
        assert header is not None
        return cls(
            message_id=message_id,
            author=(header.findtext(f"{e}From/{e}OrganId") or "").strip(),
            document_sender=(header.findtext(f"{e}ResponseFor/{e}OrganId") or "").strip(),
            document_id=(header.findtext(f"{e}ResponseFor/{e}DocumentId") or "").strip(),
            code=(header.findtext(f"{e}StatusCode") or "").strip(),
            description=header.findtext(f"{e}Description"),
            body=body,
            recipient=recipient,
        )


Item = Document | Status | Receipt
