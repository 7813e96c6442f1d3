"""Enveloped XML-DSig signing with signxml: the hub's receipts, and packages (tests, SDK).

RSA keys sign with rsa-sha256, EC keys with ecdsa-sha256; digests are SHA-256; canonical form
is exclusive C14N. The signature covers the whole document (``URI=""``) and carries the signer's
certificate in ``KeyInfo/X509Data/X509Certificate``.
"""

from __future__ import annotations

import base64
import functools
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree
from signxml.algorithms import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConstructionMethod,
    SignatureMethod,
)
from signxml.signer import XMLSigner

from hub.check import xmlsafe
from hub.check.schema import EDXML_NS
from hub.check.xmldsig import DS_NS, ECDSA_SHA256, ENVELOPED, EXCLUSIVE_C14N, RSA_SHA256, SHA256
from hub.registry import pki
from hub.registry.pki import PrivateKey

EXC_C14N = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0


class _Signer(XMLSigner):
    """signxml parses the document again while signing; packages with attachments over 10 MB
    need libxml2's huge-tree option, which ``XMLSigner.sign()`` does not take as an argument
    (``XMLVerifier.verify`` does, as ``parser=``); this is the parser it falls back to."""

    _default_parser = xmlsafe.parser()


def _signer(key: PrivateKey) -> XMLSigner:
    method = (
        SignatureMethod.ECDSA_SHA256
        if isinstance(key, ec.EllipticCurvePrivateKey)
        else SignatureMethod.RSA_SHA256
    )
    return _Signer(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=method,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=EXC_C14N,
    )


def sign_root(root: etree._Element, key: PrivateKey, cert: x509.Certificate) -> bytes:
    """Sign ``root`` in place of its ``<ds:Signature Id="placeholder"/>``, or as its last child."""
    signed = _signer(key).sign(root, key=key, cert=[cert])
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


_DS = f"{{{DS_NS}}}"


def _c14n(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=False)


def sign_own(root: etree._Element, key: PrivateKey, cert: x509.Certificate) -> bytes:
    """What :func:`sign_root` makes of a document the hub built itself (receipts are written
    by :func:`sign_written` instead, whose bytes the tests compare with this):
    the same enveloped signature, exclusive C14N, SHA-256 and the same elements — without
    signxml's re-parsing and copying, about five times faster. Only for trees without a
    signature or comments, which the hub's own builders guarantee; the signature goes last.
    Receipts signed here are checked by signxml and by xmlsec1 in the tests."""
    digest = hashlib.sha256(_c14n(root)).digest()  # before the signature: enveloped transform
    signature = etree.SubElement(root, _DS + "Signature", nsmap={"ds": DS_NS})
    signed_info = etree.SubElement(signature, _DS + "SignedInfo")
    etree.SubElement(signed_info, _DS + "CanonicalizationMethod", Algorithm=EXCLUSIVE_C14N)
    is_ec = isinstance(key, ec.EllipticCurvePrivateKey)
    method = ECDSA_SHA256 if is_ec else RSA_SHA256
    etree.SubElement(signed_info, _DS + "SignatureMethod", Algorithm=method)
    reference = etree.SubElement(signed_info, _DS + "Reference", URI="")
    transforms = etree.SubElement(reference, _DS + "Transforms")
    etree.SubElement(transforms, _DS + "Transform", Algorithm=ENVELOPED)
    etree.SubElement(transforms, _DS + "Transform", Algorithm=EXCLUSIVE_C14N)
    etree.SubElement(reference, _DS + "DigestMethod", Algorithm=SHA256)
    etree.SubElement(reference, _DS + "DigestValue").text = base64.b64encode(digest).decode()
    value = etree.SubElement(signature, _DS + "SignatureValue")
    value.text = base64.b64encode(pki.sign_xmldsig(key, _c14n(signed_info))).decode()
    x509_data = etree.SubElement(etree.SubElement(signature, _DS + "KeyInfo"), _DS + "X509Data")
    etree.SubElement(x509_data, _DS + "X509Certificate").text = base64.b64encode(
        cert.public_bytes(serialization.Encoding.DER)
    ).decode()
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@functools.lru_cache(maxsize=8)
def _certificate_text(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def _signed_info(method: str, digest: bytes, *, canonical: bool) -> str:
    """SignedInfo's children as :func:`sign_own` makes them: empty elements as lxml writes them,
    or as canonical XML does (an end tag for each)."""

    def empty(name: str, algorithm: str) -> str:
        close = f"></ds:{name}>" if canonical else "/>"
        return f'<ds:{name} Algorithm="{algorithm}"{close}'

    return (
        empty("CanonicalizationMethod", EXCLUSIVE_C14N)
        + empty("SignatureMethod", method)
        + '<ds:Reference URI=""><ds:Transforms>'
        + empty("Transform", ENVELOPED)
        + empty("Transform", EXCLUSIVE_C14N)
        + "</ds:Transforms>"
        + empty("DigestMethod", SHA256)
        + f"<ds:DigestValue>{base64.b64encode(digest).decode()}</ds:DigestValue></ds:Reference>"
    )


def sign_written(
    start: str, end: str, content: str, canonical: str, key: PrivateKey, cert: x509.Certificate
) -> bytes:
    """:func:`sign_own`'s document, written instead of built, for a root whose start tag
    ``start`` (its one namespace declaration, no attributes) reads the same in canonical form:
    ``content`` is its children as lxml serialises them, ``canonical`` as exclusive C14N writes
    them (the caller escapes text each way). The same bytes as :func:`sign_own` of the tree
    (``tests/test_receipt_signing.py`` compares them with an RSA key, whose signatures are
    deterministic), in about half the time: no tree is built, walked or serialised."""
    digest = hashlib.sha256(f"{start}{canonical}{end}".encode()).digest()
    method = ECDSA_SHA256 if isinstance(key, ec.EllipticCurvePrivateKey) else RSA_SHA256
    signed_info = _signed_info(method, digest, canonical=True)
    value = pki.sign_xmldsig(
        key, f'<ds:SignedInfo xmlns:ds="{DS_NS}">{signed_info}</ds:SignedInfo>'.encode()
    )
    signature = (
        f'<ds:Signature xmlns:ds="{DS_NS}">'
        f"<ds:SignedInfo>{_signed_info(method, digest, canonical=False)}</ds:SignedInfo>"
        f"<ds:SignatureValue>{base64.b64encode(value).decode()}</ds:SignatureValue>"
        "<ds:KeyInfo><ds:X509Data>"
        f"<ds:X509Certificate>{_certificate_text(cert)}</ds:X509Certificate>"
        "</ds:X509Data></ds:KeyInfo></ds:Signature>"
    )
    return f"<?xml version='1.0' encoding='UTF-8'?>\n{start}{content}{signature}{end}".encode()


def place_holder(parent: etree._Element) -> etree._Element:
    holder = etree.SubElement(parent, f"{{{DS_NS}}}Signature", nsmap={"ds": DS_NS})
    holder.set("Id", "placeholder")
    return holder


def sign_package(data: bytes, key: PrivateKey, cert: x509.Certificate) -> bytes:
    """Sign an unsigned edXML package: the signature goes last in ``edXMLHeader``."""
    parser = xmlsafe.parser()
    root = etree.fromstring(data, parser)
    header = root.find(f"{{{EDXML_NS}}}edXMLEnvelope/{{{EDXML_NS}}}edXMLHeader")
    if header is None:
        raise ValueError("not an edXML package: no edXMLEnvelope/edXMLHeader")
    place_holder(header)
    return sign_root(root, key, cert)
