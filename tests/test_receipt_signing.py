"""Receipts signed by the hub's own signer (``signing.sign_own``) are what signxml would have
made: the same elements and digest, an RSA signature identical to the byte, an ECDSA signature
that signxml and xmlsec1 verify, and a tampered receipt that neither accepts."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from signxml.exceptions import InvalidDigest, InvalidSignature
from signxml.verifier import SignatureConfiguration, XMLVerifier

from hub.check.signing import sign_own, sign_root
from hub.errors import Code
from hub.record import receipt
from hub.registry import issuing, pki

FACTS = [
    receipt.ReceiptFacts(
        message_id="m-1",
        submitter="000.00.00.G22",
        kind="edoc",
        document_id="000.00.00.G22,2026/12/01,12/VPCP-KSTT",
        code=None,
        detail="accepted for delivery to 000.00.00.H41, 000.00.14.H20",
        digest=bytes(range(32)),
        timestamp=dt.datetime(2026, 12, 1, 8, 30, tzinfo=dt.UTC),
        recipients=("000.00.00.H41", "000.00.14.H20"),
    ),
    receipt.ReceiptFacts(
        message_id='m-2 <&> "quoted"',
        submitter="000.00.00.H41",
        kind=None,
        document_id=None,
        code=Code.XML_MALFORMED,
        detail="not well-formed XML at line 1, column 3: Văn bản lỗi <&>",
        digest=bytes(32),
        timestamp=dt.datetime(2026, 12, 1, 8, 30, tzinfo=dt.UTC),
    ),
]


@pytest.fixture(scope="module")
def rsa_signer() -> receipt.HubSigner:
    ca_key, ca = issuing.make_ca("receipt test CA")
    key, cert = issuing.issue(
        ca_key, ca, issuing.IssueRequest(common_name="lienthong hub", key_kind="rsa")
    )
    return receipt.HubSigner(key=key, cert=cert)


@pytest.fixture(scope="module", params=["ec", "rsa"])
def authority(request) -> tuple[pki.PrivateKey, object, object]:
    ca_key, ca = issuing.make_ca("receipt test CA")
    key, cert = issuing.issue(
        ca_key, ca, issuing.IssueRequest(common_name="lienthong hub", key_kind=request.param)
    )
    return key, cert, ca


def plain(xml: bytes) -> bytes:
    """The receipt with its signature value and certificate text taken out."""
    root = etree.fromstring(xml)
    ds = "{http://www.w3.org/2000/09/xmldsig#}"
    for name in ("SignatureValue", "X509Certificate"):
        for element in root.iter(ds + name):
            element.text = ""
    return etree.tostring(root, method="c14n")


def test_the_same_receipt_as_signxml_makes(authority) -> None:
    key, cert, _ = authority
    for facts in FACTS:
        ours = sign_own(receipt.build(facts), key, cert)
        theirs = sign_root(receipt.build(facts), key, cert)
        assert plain(ours) == plain(theirs)
        value = re.compile(rb"<ds:SignatureValue>([^<]*)</ds:SignatureValue>")
        if not isinstance(key, pki.ec.EllipticCurvePrivateKey):  # deterministic: equal bytes
            assert value.search(ours).group(1) == re.sub(  # type: ignore[union-attr]
                rb"\s",
                b"",
                value.search(theirs).group(1),  # type: ignore[union-attr]
            )
        receipt.validate(ours)
        XMLVerifier().verify(
            ours, x509_cert=cert, expect_config=SignatureConfiguration(expect_references=1)
        )


def test_a_tampered_receipt_fails(authority) -> None:
    key, cert, _ = authority
    signed = receipt.sign(FACTS[0], receipt.HubSigner(key=key, cert=cert))  # as the hub does
    for before, after in ((b"accepted<", b"rejected<"), (b"000.00.14.H20<", b"000.00.14.H21<")):
        changed = signed.replace(before, after, 1)
        assert changed != signed
        with pytest.raises((InvalidDigest, InvalidSignature)):
            XMLVerifier().verify(
                changed, x509_cert=cert, expect_config=SignatureConfiguration(expect_references=1)
            )


@pytest.mark.skipif(shutil.which("xmlsec1") is None, reason="xmlsec1 is installed by make test")
def test_xmlsec1_verifies_the_hubs_own_signature(authority, tmp_path: Path) -> None:
    key, cert, ca = authority
    (tmp_path / "ca.pem").write_text(pki.pem(ca))  # type: ignore[arg-type]
    signed = tmp_path / "receipt.xml"
    signed.write_bytes(receipt.sign(FACTS[1], receipt.HubSigner(key=key, cert=cert)))
    ok = subprocess.run(
        ["xmlsec1", "--verify", "--trusted-pem", str(tmp_path / "ca.pem"), str(signed)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    signed.write_bytes(signed.read_bytes().replace(b"XML_MALFORMED", b"XML_FORBIDDEN", 1))
    bad = subprocess.run(
        ["xmlsec1", "--verify", "--trusted-pem", str(tmp_path / "ca.pem"), str(signed)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode != 0


def _without_value(xml: bytes) -> bytes:
    return re.sub(rb"<ds:SignatureValue>[^<]*</ds:SignatureValue>", b"", xml)


def test_the_written_receipt_is_the_built_one_byte_for_byte(authority) -> None:
    """hub.record.receipt.sign writes what sign_own serialises of build()'s tree: with RSA (a
    deterministic signature) the very bytes; with ECDSA all but the signature value, and both
    verify."""
    key, cert, _ = authority
    signer = receipt.HubSigner(key=key, cert=cert)
    for facts in FACTS:
        written = receipt.sign(facts, signer)
        built = sign_own(receipt.build(facts), key, cert)
        if isinstance(key, pki.ec.EllipticCurvePrivateKey):
            assert _without_value(written) == _without_value(built)
        else:
            assert written == built
        receipt.validate(written)
        XMLVerifier().verify(
            written, x509_cert=cert, expect_config=SignatureConfiguration(expect_references=1)
        )


_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


@settings(max_examples=150, deadline=None)
@given(message_id=_TEXT, detail=_TEXT, document_id=st.none() | _TEXT, rejected=st.booleans())
def test_any_text_is_written_as_the_tree_serialises_it(
    rsa_signer: receipt.HubSigner,
    message_id: str,
    detail: str,
    document_id: str | None,
    rejected: bool,
) -> None:
    """Escapes (& < > and CR, written two ways), characters XML cannot hold, the empty text."""
    facts = receipt.ReceiptFacts(
        message_id=message_id,
        submitter="000.00.00.G22",
        kind="edoc",
        document_id=document_id,
        code=Code.SCHEMA_INVALID if rejected else None,
        detail=detail,
        digest=bytes(range(32)),
        timestamp=dt.datetime(2026, 12, 5, 1, 2, 3, 456789, tzinfo=dt.UTC),
        recipients=("000.00.00.H41",),
        assurance="signature",
    )
    written = receipt.sign(facts, rsa_signer)
    assert written == sign_own(receipt.build(facts), rsa_signer.key, rsa_signer.cert)
