"""The hub's verifier (signxml less its copy of the whole document) agrees with signxml's own:
the same verdict on signed, tampered and re-signed packages, and the same signed content."""

from __future__ import annotations

import pytest
from signxml.exceptions import InvalidDigest, InvalidSignature
from signxml.verifier import SignatureConfiguration, XMLVerifier

from adapters.sdk import (
    Attachment,
    DocumentSpec,
    Organization,
    StatusSpec,
    build_document,
    build_status,
)
from hub.check import verification
from hub.check.inspection import inspect
from hub.check.schema import Kind
from hub.check.signing import place_holder, sign_package
from hub.errors import Code, PackageRejected
from hub.registry import issuing, pki

SENDER = "000.00.00.G22"
RECIPIENT = "000.00.00.H41"


@pytest.fixture(scope="module")
def signer() -> tuple[pki.PrivateKey, object]:
    ca_key, ca = issuing.make_ca("test CA")
    return issuing.issue(ca_key, ca, issuing.IssueRequest(common_name="signer", organ_id=SENDER))


def document(signer, *, size: int = 3000) -> bytes:
    spec = DocumentSpec(
        sender=Organization(organ_id=SENDER, name="Văn phòng Chính phủ"),
        recipients=[Organization(organ_id=RECIPIENT)],
        document_id=f"{SENDER},2026/12/01,1/VPCP",
        subject="V/v kiểm tra <chữ ký> & nội dung",
        attachments=[Attachment(name="a.pdf", content=b"%PDF" + bytes(range(256)) * (size // 256))],
    )
    return sign_package(build_document(spec), *signer)


def status(signer) -> bytes:
    spec = StatusSpec(
        sender=Organization(organ_id=SENDER),
        document_sender=RECIPIENT,
        document_id=f"{RECIPIENT},2026/12/01,7/UBND",
        status_code="03",
        description="Đã tiếp nhận",
        staff="Văn thư",
    )
    return sign_package(build_status(spec), *signer)


def signxml_verdict(data: bytes, cert) -> bytes | type[Exception]:
    try:
        result = XMLVerifier().verify(
            data,
            x509_cert=cert,
            expect_config=SignatureConfiguration(expect_references=1, location=".//"),
        )
    except (InvalidDigest, InvalidSignature) as exc:
        return type(exc)
    return result.signed_data


def hub_verdict(data: bytes, kind: Kind, *, consume: bool) -> bytes | Code:
    inspected = inspect(data, kind, max_bytes=1 << 26)
    # consumed, the tree is inspection's, which lacks attachments over EXCISE_MIN
    excisions = inspected.excisions if consume else ()
    try:
        verified = verification.verify(
            data, inspected.signature, consume_tree=consume, excisions=excisions
        )
    except PackageRejected as exc:
        return exc.code
    from lxml import etree

    from hub.check import excision

    canonical = etree.tostring(verified.signed_root, method="c14n")
    pieces: list[bytes] = []  # the excised attachments put back, as the digest reads them
    assert excision.digest_spliced(canonical, data, excisions, lambda p: pieces.append(bytes(p)))
    return b"".join(pieces)


def variants(signer) -> list[tuple[str, bytes, Kind]]:
    doc, st = document(signer), status(signer)
    return [
        ("document", doc, Kind.EDOC),
        ("large document", document(signer, size=300_000), Kind.EDOC),
        ("status", st, Kind.STATUS),
        ("subject changed", doc.replace("kiểm tra".encode(), "sửa đổi".encode()), Kind.EDOC),
        ("recipient changed", doc.replace(RECIPIENT.encode(), b"000.00.00.H40"), Kind.EDOC),
        ("status code changed", st.replace(b">03<", b">06<"), Kind.STATUS),
    ]


@pytest.mark.parametrize("consume", [False, True])
def test_the_hub_verifier_agrees_with_signxml(signer, consume: bool) -> None:
    _, cert = signer
    for name, data, kind in variants(signer):
        expected = signxml_verdict(data, cert)
        got = hub_verdict(data, kind, consume=consume)
        if isinstance(expected, bytes):
            assert got == expected, name
        else:
            assert got is Code.SIGNATURE_INVALID, name


def test_consuming_verifies_the_callers_tree_in_place(signer) -> None:
    data = document(signer)
    inspected = inspect(data, Kind.EDOC, max_bytes=1 << 26)
    verified = verification.verify(data, inspected.signature, consume_tree=True)
    assert inspected.signature.getparent() is None  # the enveloped transform worked in place
    # no copy: what was verified is the caller's tree, less the signature
    assert verified.signed_root is inspected.tree.getroot()
    again = inspect(data, Kind.EDOC, max_bytes=1 << 26)
    verification.verify(data, again.signature)
    assert again.signature.getparent() is not None  # from bytes, the caller's tree is untouched


@pytest.mark.parametrize(
    "c14n",
    [
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments",
        "http://www.w3.org/2001/10/xml-exc-c14n#",
        "http://www.w3.org/2006/12/xml-c14n11",
    ],
)
def test_every_canonicalization_digests_as_signxml_does(signer, c14n: str) -> None:
    """Signed by signxml itself with each canonicalization the hub allows, a processing
    instruction in the package: the streamed digest agrees with signxml's."""
    from lxml import etree
    from signxml import XMLSigner
    from signxml.algorithms import CanonicalizationMethod

    key, cert = signer
    root = etree.fromstring(document(signer))
    old = root.find(".//{http://www.w3.org/2000/09/xmldsig#}Signature")
    parent = old.getparent()
    parent.remove(old)
    place_holder(parent)
    root[0].addprevious(etree.ProcessingInstruction("pi", "data"))
    signed = etree.tostring(
        XMLSigner(c14n_algorithm=CanonicalizationMethod(c14n)).sign(root, key=key, cert=[cert])
    )
    for consume in (False, True):
        assert hub_verdict(signed, Kind.EDOC, consume=consume) == signxml_verdict(signed, cert)
        tampered = signed.replace(RECIPIENT.encode(), b"000.00.00.H40")
        assert tampered != signed
        assert hub_verdict(tampered, Kind.EDOC, consume=consume) is Code.SIGNATURE_INVALID


def test_the_private_api_the_hub_overrides_is_the_one_it_was_written_for() -> None:
    """hub/check/inplace_verifier.py replaces signxml's private ``_verify_reference`` (5.2's seven-
    argument form) and calls its private helpers: if an upgrade changes them, this fails
    loudly before a signature is ever checked with a mismatched override."""
    import inspect

    from signxml import XMLVerifier

    assert list(inspect.signature(XMLVerifier._verify_reference).parameters) == [
        "self",
        "reference",
        "index",
        "root",
        "uri_resolver",
        "c14n_algorithm",
        "signature",
        "signature_key_used",
    ]
    for helper in (
        "_get_signature",
        "_find",
        "_resolve_reference",
        "_apply_transforms",
        "_get_digest",
        "_fromstring",
        "check_digest_alg_expected",
        "get_root",
        "_get_cert_verification_time",
    ):
        assert callable(getattr(XMLVerifier, helper, None)), helper
    assert list(inspect.signature(XMLVerifier._find).parameters) == [
        "self",
        "element",
        "query",
        "require",
        "xpath",
    ]
    assert list(inspect.signature(XMLVerifier._findall).parameters) == [
        "self",
        "element",
        "query",
        "xpath",
    ]
    assert list(inspect.signature(XMLVerifier._get_cert_validity_error).parameters) == [
        "self",
        "cert",
        "cert_source",
    ]


def test_the_certificate_validity_check_still_refuses_outside_the_validity(signer) -> None:
    """The override names the certificate only when it fails: inside the validity nothing,
    before or after it signxml's own message (a signature verified at such a moment fails)."""
    import datetime as dt

    from signxml.exceptions import InvalidCertificate

    from hub.check.inplace_verifier import InPlaceVerifier

    _, cert = signer
    data = document(signer)
    middle = cert.not_valid_before_utc + (cert.not_valid_after_utc - cert.not_valid_before_utc) / 2
    for moment, fails in (
        (middle, False),
        (cert.not_valid_before_utc - dt.timedelta(seconds=1), True),
        (cert.not_valid_after_utc + dt.timedelta(seconds=1), True),
    ):
        config = SignatureConfiguration(
            require_x509=True, expect_references=1, location=".//", verification_time=moment
        )
        verifier = InPlaceVerifier()
        if fails:
            with pytest.raises(InvalidCertificate, match="subject="):
                verifier.verify(data, x509_cert=cert, expect_config=config)
        else:
            result = verifier.verify(data, x509_cert=cert, expect_config=config)
            assert result.signed_xml is not None


def test_what_inspection_read_is_what_was_signed(signer) -> None:
    """hub.check.decision reads a package once, before its signature is checked, when the
    verified content is the tree it read: every package reads the same from the signed tree."""
    from hub.check import package

    for name, data, kind in variants(signer)[:3]:
        inspected = inspect(data, kind, max_bytes=1 << 26)
        verified = verification.verify(
            data, inspected.signature, consume_tree=True, excisions=inspected.excisions
        )
        assert verified.signed_root is inspected.tree.getroot(), name
        if kind is Kind.EDOC:
            assert package.read_document(verified.signed_root) == inspected.document, name
        else:
            assert package.read_status(verified.signed_root) == inspected.status, name


def test_paths_in_clark_notation_find_what_signxml_finds(signer) -> None:
    """The hub's ``_find`` writes signxml's prefixed paths in Clark notation once: the same
    elements, the same refusal when one is missing."""
    from signxml.exceptions import InvalidInput

    from hub.check.inplace_verifier import InPlaceVerifier

    root = inspect(document(signer), Kind.EDOC, max_bytes=1 << 26).tree.getroot()
    ours, theirs = InPlaceVerifier(), XMLVerifier()
    for query, xpath in (
        ("Signature", ".//"),
        ("ds:SignedInfo", ".//"),
        ("SignatureValue", ".//"),
        ("dsig11:DEREncodedKeyValue", ".//"),
        ("X509Certificate", ".//ds:KeyInfo/ds:X509Data/"),
    ):
        assert ours._find(root, query, require=False, xpath=xpath) is theirs._find(
            root, query, require=False, xpath=xpath
        )
        assert ours._findall(root, query, xpath=xpath) == theirs._findall(root, query, xpath=xpath)
    with pytest.raises(InvalidInput):
        ours._find(root, "NoSuchElement")
