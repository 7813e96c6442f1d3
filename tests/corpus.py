"""Broken and hostile packages, each with the exact code the hub must answer.

Each case builds its bytes from a :class:`Cast` of agencies: ``a`` sends to ``b``; ``c`` is a
third agency; ``s`` is suspended; ``e`` holds an expired and a not-yet-valid certificate.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.sdk import Attachment, build_document
from hub import home
from hub.check.signing import sign_package
from hub.registry import issuing, pki
from tests.harness import Agency, World

DS = b"http://www.w3.org/2000/09/xmldsig#"


@dataclass
class Cast:
    world: World
    a: Agency
    b: Agency
    c: Agency
    s: Agency
    e: Agency
    expired: tuple[pki.PrivateKey, object]
    future: tuple[pki.PrivateKey, object]
    accepted_id: str
    samples: Path | None


@dataclass(frozen=True)
class Case:
    name: str
    code: str
    build: Callable[[Cast], bytes]
    kind: str = "edoc"
    submitter: str = "a"


def good(cast: Cast, **fields: object) -> bytes:
    return cast.world.document(cast.a, [cast.b], **fields)


def replace_once(data: bytes, old: bytes, new: bytes) -> bytes:
    assert old in data, old
    return data.replace(old, new, 1)


def signed_with(cast: Cast, key: pki.PrivateKey, cert: object, **fields: object) -> bytes:
    spec = cast.world.document_spec(cast.a, [cast.b], **fields)
    return sign_package(build_document(spec), key, cert)  # type: ignore[arg-type]


def weak_rsa(cast: Cast) -> bytes:
    ca = home.load_dev_ca(cast.world.settings)
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    key, cert = issuing.issue(ca.key, ca.cert, issuing.IssueRequest(common_name="weak"), key=small)
    return signed_with(cast, key, cert)


def untrusted(cast: Cast) -> bytes:
    ca_key, ca_cert = issuing.make_ca("rogue CA")
    key, cert = issuing.issue(
        ca_key, ca_cert, issuing.IssueRequest(common_name="rogue", organ_id=cast.a.organ_id)
    )
    return signed_with(cast, key, cert)


def unregistered(cast: Cast) -> bytes:
    ca = home.load_dev_ca(cast.world.settings)
    key, cert = issuing.issue(
        ca.key, ca.cert, issuing.IssueRequest(common_name="a's unregistered key")
    )
    return signed_with(cast, key, cert)


def second_signature(cast: Cast) -> bytes:
    data = good(cast)
    signature = re.search(rb"<ds:Signature.*?</ds:Signature>", data, re.S)
    assert signature
    return replace_once(data, b"</MessageHeader>", signature.group(0) + b"</MessageHeader>")


def moved_signature(cast: Cast) -> bytes:
    data = good(cast)
    signature = re.search(rb"<ds:Signature.*?</ds:Signature>", data, re.S)
    assert signature
    data = data.replace(signature.group(0), b"")
    return replace_once(data, b"</edXML>", signature.group(0) + b"</edXML>")


def wrapped_in_object(cast: Cast) -> bytes:
    """The signed original hidden in a ds:Object; the visible header changed."""
    data = good(cast)
    header = re.search(rb"<MessageHeader>.*?</MessageHeader>", data, re.S)
    assert header
    hidden = b"<ds:Object>" + header.group(0) + b"</ds:Object>"
    data = replace_once(data, b"</ds:Signature>", hidden + b"</ds:Signature>")
    return data.replace(b"<Subject>", b"<Subject>[forged] ", 1)


def reference_to_fragment(cast: Cast) -> bytes:
    return replace_once(good(cast), b'<ds:Reference URI="">', b'<ds:Reference URI="#header">')


def extra_reference(cast: Cast) -> bytes:
    data = good(cast)
    reference = re.search(rb"<ds:Reference URI=\"\">.*?</ds:Reference>", data, re.S)
    assert reference
    return replace_once(data, reference.group(0), reference.group(0) * 2)


def xslt_transform(cast: Cast) -> bytes:
    return replace_once(
        good(cast),
        b"<ds:Transforms>",
        b'<ds:Transforms><ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116"/>',
    )


def method(cast: Cast, algorithm: bytes) -> bytes:
    return re.sub(
        rb'(<ds:SignatureMethod Algorithm=")[^"]*', rb"\g<1>" + algorithm, good(cast), count=1
    )


def digest(cast: Cast, algorithm: bytes) -> bytes:
    return re.sub(
        rb'(<ds:DigestMethod Algorithm=")[^"]*', rb"\g<1>" + algorithm, good(cast), count=1
    )


def tamper_attachment(cast: Cast) -> bytes:
    data = good(cast)
    match = re.search(rb"<ContentTransferEncoded>([^<]{40})", data)
    assert match
    chunk = match.group(1)
    flipped = chunk[:20] + (b"A" if chunk[20:21] != b"A" else b"B") + chunk[21:]
    return replace_once(data, chunk, flipped)


def no_certificate(cast: Cast) -> bytes:
    return re.sub(rb"<ds:KeyInfo>.*?</ds:KeyInfo>", b"", good(cast), count=1, flags=re.S)


def garbage_signature_value(cast: Cast) -> bytes:
    return re.sub(
        rb"(<ds:SignatureValue>)[^<]*",
        rb"\g<1>" + base64.b64encode(b"\x01" * 256),
        good(cast),
        count=1,
    )


def signed_by_e(cast: Cast, pair: tuple[pki.PrivateKey, object]) -> bytes:
    key, cert = pair
    return sign_package(build_document(cast.world.document_spec(cast.e, [cast.b])), key, cert)  # type: ignore[arg-type]


def unsigned(cast: Cast) -> bytes:
    return build_document(cast.world.document_spec(cast.a, [cast.b]))


def unsigned_with(cast: Cast, old: bytes, new: bytes) -> bytes:
    data = replace_once(unsigned(cast), old, new)
    return sign_package(data, cast.a.key, cast.a.cert)


def nested(cast: Cast, depth: int) -> bytes:
    deep = b"<x:n xmlns:x='urn:x'>" * depth + b"</x:n>" * depth
    return replace_once(unsigned(cast), b"</MessageHeader>", deep + b"</MessageHeader>")


def sample(name: str, cast: Cast) -> bytes:
    assert cast.samples is not None
    return (cast.samples / name).read_bytes()


DTD_XXE = b'<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><edXML>&xxe;</edXML>'
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b"]><edXML>&lol9;</edXML>"
)

CASES: list[Case] = [
    # size, well-formedness and forbidden constructs
    Case("empty", "XML_MALFORMED", lambda c: b""),
    Case("not xml (a PDF)", "XML_MALFORMED", lambda c: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj"),
    Case("truncated", "XML_MALFORMED", lambda c: good(c)[:-40]),
    Case(
        "invalid UTF-8",
        "XML_MALFORMED",
        lambda c: replace_once(good(c), b"<Subject>", b"<Subject>\xc3\x28"),
    ),
    Case(
        "UTF-16",
        "XML_MALFORMED",
        lambda c: good(c).decode().replace("UTF-8", "UTF-16").encode("utf-16"),
    ),
    Case("stray bytes before the declaration", "XML_MALFORMED", lambda c: b"1212" + good(c)),
    Case("XXE", "XML_FORBIDDEN", lambda c: DTD_XXE),
    Case("billion laughs", "XML_FORBIDDEN", lambda c: LAUGHS),
    Case(
        "external DTD",
        "XML_FORBIDDEN",
        lambda c: replace_once(
            good(c), b"<edXML", b'<!DOCTYPE edXML SYSTEM "http://127.0.0.1:9/x.dtd"><edXML'
        ),
    ),
    Case(
        "XInclude",
        "XML_FORBIDDEN",
        lambda c: replace_once(
            good(c),
            b"<Subject>",
            b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd"/><Subject>',
        ),
    ),
    Case("nested 100 deep", "XML_FORBIDDEN", lambda c: nested(c, 100)),
    Case(
        "oversize",
        "TOO_LARGE",
        lambda c: good(c, attachments=[Attachment(name="big.bin", content=b"\0" * (3 << 20))]),
    ),
    # schema
    Case(
        "no DocumentId",
        "SCHEMA_INVALID",
        lambda c: re.sub(rb"<DocumentId>[^<]*</DocumentId>", b"", good(c), count=1),
    ),
    Case(
        "BussinessDocType 9",
        "SCHEMA_INVALID",
        lambda c: unsigned_with(c, b"<BussinessDocType>0<", b"<BussinessDocType>9<"),
    ),
    Case(
        "Priority 7", "SCHEMA_INVALID", lambda c: unsigned_with(c, b"<Priority>0<", b"<Priority>7<")
    ),
    Case(
        "status sent as a document",
        "SCHEMA_INVALID",
        lambda c: c.world.status(c.b, c.a.organ_id, c.accepted_id, "01"),
        submitter="b",
    ),
    Case(
        "bad base64 attachment",
        "SCHEMA_INVALID",
        lambda c: unsigned_with(c, b"</ContentTransferEncoded>", b"*</ContentTransferEncoded>"),
    ),
    Case("signature moved under the root", "SCHEMA_INVALID", moved_signature),
    # signature
    Case("unsigned", "SIGNATURE_MISSING", unsigned),
    Case("two signatures", "SIGNATURE_INVALID", second_signature),
    Case("original wrapped in ds:Object", "SIGNATURE_INVALID", wrapped_in_object),
    Case("reference to a fragment", "SIGNATURE_INVALID", reference_to_fragment),
    Case("two references", "SIGNATURE_INVALID", extra_reference),
    Case("XSLT transform", "SIGNATURE_INVALID", xslt_transform),
    Case("attachment changed after signing", "SIGNATURE_INVALID", tamper_attachment),
    Case(
        "subject changed after signing",
        "SIGNATURE_INVALID",
        lambda c: replace_once(good(c), b"<Subject>V/v", b"<Subject>V/V"),
    ),
    Case(
        "recipient added after signing",
        "SIGNATURE_INVALID",
        lambda c: replace_once(
            good(c),
            b"<DocumentId>",
            f"<To><OrganId>{c.c.organ_id}</OrganId></To><DocumentId>".encode(),
        ),
    ),
    Case("no signer certificate", "SIGNATURE_INVALID", no_certificate),
    Case("garbage signature value", "SIGNATURE_INVALID", garbage_signature_value),
    Case(
        "SHA-1 signature method",
        "ALGORITHM_WEAK",
        lambda c: method(c, b"http://www.w3.org/2000/09/xmldsig#rsa-sha1"),
    ),
    Case(
        "SHA-1 digest",
        "ALGORITHM_WEAK",
        lambda c: digest(c, b"http://www.w3.org/2000/09/xmldsig#sha1"),
    ),
    Case(
        "HMAC",
        "ALGORITHM_WEAK",
        lambda c: method(c, b"http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"),
    ),
    Case("RSA-1024", "ALGORITHM_WEAK", weak_rsa),
    # certificates
    Case("untrusted CA", "CERT_UNTRUSTED", untrusted),
    Case("trusted CA, certificate not registered", "CERT_UNTRUSTED", unregistered),
    Case("expired certificate", "CERT_EXPIRED", lambda c: signed_by_e(c, c.expired), submitter="e"),
    Case(
        "not yet valid certificate",
        "CERT_EXPIRED",
        lambda c: signed_by_e(c, c.future),
        submitter="e",
    ),
    # sender and recipients
    Case(
        "another agency's certificate",
        "SENDER_MISMATCH",
        lambda c: c.world.document(c.a, [c.b], signer=c.c),
    ),
    Case("From spoofed", "SENDER_MISMATCH", lambda c: c.world.document(c.c, [c.b], signer=c.a)),
    Case(
        "From spoofed with the spoofed agency's key",
        "SENDER_MISMATCH",
        lambda c: c.world.document(c.c, [c.b]),
    ),
    Case(
        "suspended sender",
        "SENDER_SUSPENDED",
        lambda c: c.world.document(c.s, [c.b]),
        submitter="s",
    ),
    Case(
        "unknown recipient",
        "RECIPIENT_UNKNOWN",
        lambda c: c.world.document(c.a, [c.b, "000.00.99.Z99"]),
    ),
    Case("suspended recipient", "RECIPIENT_SUSPENDED", lambda c: c.world.document(c.a, [c.b, c.s])),
    # records
    Case(
        "DocumentId reused with other content",
        "DUPLICATE_DOCUMENT",
        lambda c: good(c, document_id=c.accepted_id, subject="khác"),
    ),
    Case(
        "revoke of a document never sent",
        "REFERENCE_UNKNOWN",
        lambda c: good(c, business_type=1, document_id=f"{c.a.organ_id},never"),
    ),
    Case(
        "status about an unknown document",
        "STATUS_INVALID",
        lambda c: c.world.status(c.b, c.a.organ_id, "no-such-document", "01"),
        kind="status",
        submitter="b",
    ),
]

SAMPLE_CODES = {
    "edoc_new.edxml": "XML_MALFORMED",
    "edoc_replacement.edxml": "SIGNATURE_MISSING",
    "edoc_revocation.edxml": "SIGNATURE_MISSING",
    "edoc_update.edxml": "SIGNATURE_MISSING",
    "status_acceptance_03.edxml": "SIGNATURE_MISSING",
    "status_inbox_01.edxml": "SIGNATURE_MISSING",
    "status_finish_06.edxml": "SIGNATURE_MISSING",
}


def sample_cases() -> list[Case]:
    return [
        Case(
            f"national sample {name}",
            code,
            lambda c, name=name: sample(name, c),
            kind="status" if name.startswith("status") else "edoc",
        )
        for name, code in SAMPLE_CODES.items()
    ]


def expired_pair(world: World, *, past: bool) -> tuple[pki.PrivateKey, object]:
    ca = home.load_dev_ca(world.settings)
    if past:
        start = pki.utcnow() - dt.timedelta(days=60)
        return issuing.issue(
            ca.key, ca.cert, issuing.IssueRequest(common_name="old", not_before=start, days=30)
        )
    start = pki.utcnow() + dt.timedelta(days=30)
    return issuing.issue(
        ca.key, ca.cert, issuing.IssueRequest(common_name="next", not_before=start)
    )
