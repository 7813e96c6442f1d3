"""Enveloped XML-DSig signing with signxml: the hub's receipts, and packages (tests, SDK).

RSA keys sign with rsa-sha256, EC keys with ecdsa-sha256; digests are SHA-256; canonical form
is exclusive C14N. The signature covers the whole document (``URI=""``) and carries the signer's
certificate in ``KeyInfo/X509Data/X509Certificate``.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree
from signxml.algorithms import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConstructionMethod,
    SignatureMethod,
)
from signxml.signer import XMLSigner

from hub.pki import PrivateKey
from hub.schema import EDXML_NS
from hub.signature import DS_NS

EXC_C14N = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0


class _Signer(XMLSigner):
    """signxml parses the document again while signing; packages with attachments over 10 MB
    need libxml2's huge-tree option, which ``XMLSigner.sign()`` does not take as an argument
    (``XMLVerifier.verify`` does, as ``parser=``); this is the parser it falls back to."""

    _default_parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True
    )


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


def place_holder(parent: etree._Element) -> etree._Element:
    holder = etree.SubElement(parent, f"{{{DS_NS}}}Signature", nsmap={"ds": DS_NS})
    holder.set("Id", "placeholder")
    return holder


def sign_package(data: bytes, key: PrivateKey, cert: x509.Certificate) -> bytes:
    """Sign an unsigned edXML package: the signature goes last in ``edXMLHeader``."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    root = etree.fromstring(data, parser)
    header = root.find(f"{{{EDXML_NS}}}edXMLEnvelope/{{{EDXML_NS}}}edXMLHeader")
    if header is None:
        raise ValueError("not an edXML package: no edXMLEnvelope/edXMLHeader")
    place_holder(header)
    return sign_root(root, key, cert)
