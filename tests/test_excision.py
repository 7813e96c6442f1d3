"""Large attachments are excised from the tree and checked from the bytes (hub/check/excision.py):
the verdicts are signxml's and the whole parse's — signed, tampered, bad base64, line ends of
every kind — and where excising would not read the same package, it is parsed whole."""

from __future__ import annotations

import base64

import pytest
from lxml import etree
from signxml.exceptions import InvalidDigest, InvalidSignature
from signxml.verifier import SignatureConfiguration, XMLVerifier

from adapters.sdk import Attachment, DocumentSpec, Organization, build_document
from hub.check import excision, verification
from hub.check.inspection import inspect
from hub.check.schema import EDXML_NS, Kind
from hub.check.signing import place_holder, sign_root
from hub.errors import Code, PackageRejected
from hub.registry import issuing, pki

SENDER = "000.00.00.G22"
RECIPIENT = "000.00.00.H41"
CTE = f"{{{EDXML_NS}}}ContentTransferEncoded"


@pytest.fixture(scope="module")
def signer() -> tuple[pki.PrivateKey, object]:
    ca_key, ca = issuing.make_ca("test CA")
    return issuing.issue(ca_key, ca, issuing.IssueRequest(common_name="signer", organ_id=SENDER))


def package(signer, encoded: str, *, attachments: int = 1) -> bytes:
    """A signed package whose attachments' text is ``encoded`` byte for byte (lxml would write a
    CR as ``&#13;``: the package is signed with the line ends as parsed, LF, and the bytes then
    given the CRs back — which parse to the same text, as a CR LF from a Java SDK does)."""
    parsed = encoded.replace("\r\n", "\n").replace("\r", "\n")
    spec = DocumentSpec(
        sender=Organization(organ_id=SENDER, name="Văn phòng Chính phủ"),
        recipients=[Organization(organ_id=RECIPIENT)],
        document_id=f"{SENDER},2026/12/05,1/VPCP",
        subject="Công văn",
        attachments=[
            Attachment(name=f"a{i}.pdf", content=b"x", content_type="application/pdf")
            for i in range(attachments)
        ],
    )
    root = etree.fromstring(build_document(spec))
    for element in root.iter(CTE):
        element.text = parsed
    place_holder(root.find(f"{{{EDXML_NS}}}edXMLEnvelope/{{{EDXML_NS}}}edXMLHeader"))
    return sign_root(root, *signer).replace(parsed.encode(), encoded.encode())


def lines(raw: bytes, width: int, end: str) -> str:
    text = base64.b64encode(raw).decode()
    return end.join(text[i : i + width] for i in range(0, len(text), width))


def signxml_verdict(data: bytes, cert) -> str:
    try:
        XMLVerifier().verify(
            data,
            x509_cert=cert,
            expect_config=SignatureConfiguration(expect_references=1, location=".//"),
        )
    except (InvalidDigest, InvalidSignature):
        return "invalid"
    return "valid"


def hub_verdict(data: bytes) -> tuple[str, int]:
    """The hub's verdict and how many attachments it excised."""
    try:
        inspected = inspect(data, Kind.EDOC, max_bytes=1 << 27)
        assert inspected.signature is not None
        verification.verify(
            data, inspected.signature, consume_tree=True, excisions=inspected.excisions
        )
    except PackageRejected as exc:
        return exc.code.value, -1
    return "valid", len(inspected.excisions)


RAW = bytes(range(256)) * 6000  # 1.5 MB: over EXCISE_MIN once encoded


@pytest.mark.parametrize(
    "encoded",
    [
        lines(RAW, 10**9, ""),  # one line
        lines(RAW, 76, "\n"),
        lines(RAW, 76, "\r\n"),  # as the Java SDK's MIME encoder writes it
        lines(RAW, 64, "\r"),
        "\n  " + lines(RAW, 76, "\n\t ") + "\n",
        # over EXCISE_MIN (64 KiB), far under the sizes where memory matters: excised too
        lines(RAW[:150_000], 76, "\r\n"),
    ],
    ids=["one line", "LF", "CR LF", "lone CR", "indented", "200 KB"],
)
def test_a_large_attachment_is_excised_and_verifies_as_signxml_says(signer, encoded) -> None:
    data = package(signer, encoded)
    assert signxml_verdict(data, signer[1]) == "valid"
    assert hub_verdict(data) == ("valid", 1)
    # one character of the attachment changed after signing
    middle = data.index(encoded[:40].encode()) + len(encoded) // 2
    while not data[middle : middle + 1].isalnum():
        middle += 1
    flipped = b"B" if data[middle : middle + 1] == b"A" else b"A"
    tampered = data[:middle] + flipped + data[middle + 1 :]
    assert signxml_verdict(tampered, signer[1]) == "invalid"
    assert hub_verdict(tampered) == ("SIGNATURE_INVALID", -1)


def test_two_large_attachments_are_both_excised(signer) -> None:
    data = package(signer, lines(RAW, 76, "\r\n"), attachments=2)
    assert hub_verdict(data) == ("valid", 2)
    assert signxml_verdict(data, signer[1]) == "valid"


def test_line_ends_are_counted_as_the_parser_counts_them() -> None:
    data = b"<a>" + b"QUJD\r\n" * 300_000 + b"QUJD\rQUJD\n" * 10 + b"</a>"
    small, (cut,) = excision.find(data)
    whole, parsed = etree.fromstring(data), etree.fromstring(small)
    assert small.count(b"\n") == whole.text.count("\n") == parsed.text.count("\n")
    assert b"".join(bytes(p) for p in excision.normalised(data, cut)) == whole.text.encode()


def test_a_cr_lf_across_slices_is_one_line_end(monkeypatch) -> None:
    data = b"<a>" + b"QUJD\r\n" * 400_000 + b"</a>"
    monkeypatch.setattr(excision, "SLICE", 4099)  # a slice ends between CR and LF now and then
    (_, (cut,)) = excision.find(data)
    read = b"".join(bytes(p) for p in excision.normalised(data, cut))
    assert read == etree.fromstring(data).text.encode()


def test_bad_base64_in_a_large_attachment_is_schema_invalid_with_its_line(signer) -> None:
    good = lines(RAW, 76, "\n")
    data = package(signer, good[:700_000] + "*" + good[700_001:])
    code, _ = hub_verdict(data)
    assert code == "SCHEMA_INVALID"
    with pytest.raises(PackageRejected) as caught:
        inspect(data, Kind.EDOC, max_bytes=1 << 27)
    line = data[: data.index(b"<ContentTransferEncoded") + 1].count(b"\n") + 1
    assert f"line {line}:" in caught.value.detail


def test_an_error_after_the_attachment_names_the_line_in_the_bytes_as_submitted(signer) -> None:
    data = package(signer, lines(RAW, 76, "\r\n"))
    broken = data.replace(b"</edXML>", b"</edXML><oops>")
    with pytest.raises(PackageRejected) as caught:
        inspect(broken, Kind.EDOC, max_bytes=1 << 27)
    assert caught.value.code is Code.XML_MALFORMED
    last = broken.count(b"\n") + 1
    assert f"line {last}" in caught.value.detail


@pytest.mark.parametrize(
    "wrap",
    [
        lambda run: b"<!-- >" + run + b"< -->",  # a run inside a comment
        lambda run: b"<?keep >" + run + b"<?>",  # inside a processing instruction
    ],
    ids=["comment", "processing instruction"],
)
def test_a_run_that_is_not_an_attachments_text_is_not_excised(wrap) -> None:
    run = b"QUJD" * 300_000
    data = b"<a><b>x</b>" + wrap(run) + b"<c>" + run + b"</c></a>"
    small, found = excision.find(data)
    assert len(found) == 2
    tree = etree.fromstring(small)
    assert not excision.bind(tree, found, "c")  # the first marker is no element's text


def test_a_marker_beside_other_text_does_not_bind() -> None:
    run = b"QUJD" * 300_000
    data = b"<a><c>x<d/>" + b">" + run + b"<e/></c></a>"
    small, found = excision.find(data)
    assert len(found) == 1
    assert not excision.bind(etree.fromstring(small), found, "c")


def test_small_packages_are_parsed_as_they_are(signer) -> None:
    data = package(signer, base64.b64encode(b"small").decode())
    assert excision.find(data) == (data, ())
    assert hub_verdict(data) == ("valid", 0)
