"""What an inbox message is for the SDK: a receipt, a status, or a document whose sender's
signature it verifies itself (and reads only what that signature covers)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from aio_pika.abc import AbstractIncomingMessage
from cryptography import x509
from cryptography.x509.oid import NameOID
from lxml import etree

from adapters.sdk.items import Document, Item, Receipt, Status
from hub import contract
from hub.contract import ADDRESSED_TO_HEADER, EDXML_NS, RECIPIENT_HEADER


def sender_of(data: bytes) -> str:
    """From/OrganId of an unsigned package (to pick the key that signs it); "" if unreadable."""
    try:
        root = etree.fromstring(data, contract.parser())
    except etree.XMLSyntaxError:
        return ""
    found = root.find(
        f"{{{EDXML_NS}}}edXMLEnvelope/{{{EDXML_NS}}}edXMLHeader/"
        f"{{{EDXML_NS}}}MessageHeader/{{{EDXML_NS}}}From/{{{EDXML_NS}}}OrganId"
    )
    return "".join(str(t) for t in found.itertext()).strip() if found is not None else ""


def recipient_of(message: AbstractIncomingMessage) -> str | None:
    value = (message.headers or {}).get(RECIPIENT_HEADER)
    return str(value) if value is not None else None


def verify_document(
    body: bytes, *, trusted: Sequence[x509.Certificate], accepted_at: dt.datetime | None
) -> tuple[etree._Element | None, str | None]:
    """What the sender's signature covers (to read the document from), or the problem.

    The signer must chain to a CA the SDK trusts, be valid when the hub accepted the
    package (the message's timestamp; now if absent), and, when its certificate names an
    OrganId (UID), be the package's From/OrganId. Only the signed content is returned: a
    comment, a ds:Object or anything else outside the signature's reach is not read."""
    if not trusted:
        return None, "no trusted CA configured in the SDK"
    try:
        at = accepted_at or dt.datetime.now(dt.UTC)
        verified = contract.verify_document(body, trusted=trusted, at=at)
        signer = verified.signer
        if not signer.not_valid_before_utc <= at <= signer.not_valid_after_utc:
            return None, (
                f"the signer's certificate was not valid at {at:%Y-%m-%d %H:%M}Z "
                f"({signer.not_valid_before_utc:%Y-%m-%d} to "
                f"{signer.not_valid_after_utc:%Y-%m-%d})"
            )
        sender = verified.document.sender
        owners = [str(a.value) for a in signer.subject.get_attributes_for_oid(NameOID.USER_ID)]
        if owners and sender not in owners:
            return None, (
                f"the package says it is from {sender} but is signed with a certificate of "
                f"{', '.join(owners)}"
            )
    except Exception as exc:
        return None, str(exc)
    return verified.signed_root, None


def item_of(
    message: AbstractIncomingMessage,
    body: bytes,
    *,
    urgent: bool,
    trusted: Sequence[x509.Certificate],
) -> Item:
    """``body``: the package — the message's own, or a claim check's fetched bytes."""
    message_id = message.message_id or ""
    recipient = recipient_of(message)
    if message.type == "receipt":
        return Receipt.parse(body, recipient=recipient)
    if message.type == "status":
        return Status.parse(message_id, body, recipient=recipient)
    accepted_at = message.timestamp.replace(tzinfo=dt.UTC) if message.timestamp else None
    signed, problem = verify_document(body, trusted=trusted, accepted_at=accepted_at)
    addressed = (message.headers or {}).get(ADDRESSED_TO_HEADER)
    return Document.parse(
        message_id,
        body,
        urgent=urgent,
        verified=signed is not None,
        problem=problem,
        signed_root=signed,
        recipient=recipient,
        addressed_to=str(addressed) if addressed is not None else None,
    )
