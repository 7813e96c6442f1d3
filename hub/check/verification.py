"""Verify a package's enveloped XML-DSig signature with signxml, in the contract's order.

1. algorithms: SHA-256 or stronger digests; RSA or ECDSA signature methods; RSA ≥ 2048 bits,
   EC ≥ 256 bits (``ALGORITHM_WEAK``);
2. shape: one ``Reference`` with ``URI=""`` and the enveloped-signature transform, a signer
   certificate in ``KeyInfo/X509Data`` (``SIGNATURE_INVALID``);
3. signature value and digest, by signxml (``SIGNATURE_INVALID``).

Certificate validity is deliberately not decided here: signxml is asked to verify at a moment
inside the certificate's validity, so that a tampered package signed with an expired
certificate is ``SIGNATURE_INVALID`` (the contract checks the signature before the
certificate). From then on, only what signxml returns as verified (``signed_xml``) is read.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from lxml import etree
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidInput, InvalidSignature
from signxml.verifier import SignatureConfiguration, VerifyResult

from hub.check import xmlsafe
from hub.check.excision import Excision
from hub.check.inplace_verifier import InPlaceVerifier
from hub.check.xmldsig import CANONICAL, DS_NS, ENVELOPED, STRONG_DIGESTS, STRONG_SIGNATURE_METHODS
from hub.errors import Code, PackageRejected
from hub.registry.pki import MIN_EC_BITS, MIN_RSA_BITS, describe_key

_DS = f"{{{DS_NS}}}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Verified:
    signer: x509.Certificate
    signed_root: etree._Element
    """The signed document as signxml verified it (the signature itself removed)."""


def _weak(detail: str) -> PackageRejected:
    return PackageRejected(Code.ALGORITHM_WEAK, detail)


def _invalid(detail: str) -> PackageRejected:
    return PackageRejected(Code.SIGNATURE_INVALID, detail)


def signer_certificates(signature: etree._Element) -> list[x509.Certificate]:
    found = signature.findall(f"{_DS}KeyInfo/{_DS}X509Data/{_DS}X509Certificate")
    if not found:
        raise _invalid(
            "the signature carries no signer certificate: KeyInfo/X509Data/X509Certificate "
            "is required"
        )
    certificates = []
    for element in found:
        try:
            der = base64.b64decode("".join((element.text or "").split()), validate=True)
            certificates.append(x509.load_der_x509_certificate(der))
        except (binascii.Error, ValueError) as exc:
            raise _invalid(
                f"the X509Certificate at line {element.sourceline} is not a certificate ({exc})"
            ) from exc
    return certificates


def check_algorithms(signature: etree._Element, signer: x509.Certificate) -> None:
    signed_info = signature.find(f"{_DS}SignedInfo")
    if signed_info is None:
        raise _invalid("the signature has no SignedInfo")
    method = signed_info.find(f"{_DS}SignatureMethod")
    algorithm = method.get("Algorithm", "") if method is not None else ""
    if algorithm not in STRONG_SIGNATURE_METHODS:
        raise _weak(
            f"signature method {algorithm[:100] or '(none)'} is not accepted; use RSA or ECDSA "
            "with SHA-256 or stronger (e.g. http://www.w3.org/2001/04/xmldsig-more#rsa-sha256)"
        )
    for digest in signed_info.iter(f"{_DS}DigestMethod"):
        name = digest.get("Algorithm", "")
        if name not in STRONG_DIGESTS:
            raise _weak(
                f"digest method {name[:100] or '(none)'} is not accepted; use SHA-256 or stronger "
                "(http://www.w3.org/2001/04/xmlenc#sha256)"
            )
    key = signer.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise _weak(f"the signer's RSA key has {key.key_size} bits; at least 2048 are required")
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.key_size < MIN_EC_BITS:
            raise _weak(
                f"the signer's EC key is on {key.curve.name}; P-256 or stronger is required"
            )
    else:
        raise _weak(f"the signer's key is {describe_key(key)}; only RSA and ECDSA are accepted")


def check_shape(signature: etree._Element) -> None:
    references = signature.findall(f"{_DS}SignedInfo/{_DS}Reference")
    if len(references) != 1:
        raise _invalid(
            f'the signature has {len(references)} references; exactly one, with URI="", '
            "covering the whole package, is required"
        )
    reference = references[0]
    if reference.get("URI") != "":
        raise _invalid(
            f"the signature's reference is URI={(reference.get('URI') or '')[:100]!r}; it must "
            'be URI="" (the whole package, attachments included)'
        )
    transforms = [
        t.get("Algorithm", "") for t in reference.iterfind(f"{_DS}Transforms/{_DS}Transform")
    ]
    if ENVELOPED not in transforms:
        raise _invalid("the signature's reference lacks the enveloped-signature transform")
    unknown = [t for t in transforms if t != ENVELOPED and t not in CANONICAL]
    if unknown:
        raise _invalid(
            f"the signature's reference uses transforms {[t[:100] for t in unknown[:3]]}; only "
            "enveloped-signature and canonicalization are allowed"
        )
    if transforms[0] != ENVELOPED or len(transforms) > 2:
        raise _invalid(
            "the signature's reference must have the enveloped-signature transform first, then "
            f"at most one canonicalization; it has {len(transforms)} transforms"
        )


def _parser() -> etree.XMLParser:
    return xmlsafe.parser()


def verify(
    data: bytes,
    signature: etree._Element,
    *,
    consume_tree: bool = False,
    excisions: tuple[Excision, ...] = (),
) -> Verified:
    """Verify the package's one signature (found by :func:`hub.check.signature_shape.locate` in a
    parse of ``data``). With ``consume_tree``, signxml works on that parse instead of
    parsing ``data`` again, and removes the signature from it: what was verified is
    :attr:`Verified.signed_root`, that tree's root. ``excisions``: what that parse lacks of
    ``data`` (:mod:`hub.check.excision`), only with ``consume_tree``."""
    if excisions and not consume_tree:
        raise ValueError("excised attachments are digested only from the tree that lacks them")
    candidates = signer_certificates(signature)
    signer = candidates[0]
    check_algorithms(signature, signer)
    check_shape(signature)
    moment = (
        signer.not_valid_before_utc + (signer.not_valid_after_utc - signer.not_valid_before_utc) / 2
    )
    config = SignatureConfiguration(
        require_x509=True,
        expect_references=1,
        location=".//",
        verification_time=moment,
    )
    try:
        result = InPlaceVerifier(data=data, excisions=excisions).verify(
            signature.getroottree().getroot() if consume_tree else data,
            x509_cert=signer,
            parser=_parser(),
            expect_config=config,
        )
    except InvalidDigest as exc:
        raise _invalid(
            "the package was changed after it was signed (digest mismatch): "
            "re-sign it after the last change"
        ) from exc
    except (InvalidSignature, InvalidCertificate, InvalidInput) as exc:
        raise _invalid(f"the signature does not verify: {exc}") from exc
    except (ValueError, etree.XMLSyntaxError) as exc:
        raise _invalid(f"the signature cannot be processed: {exc}") from exc
    if not isinstance(result, VerifyResult):
        raise _invalid("the signature must have exactly one reference")
    signed = result.signed_xml
    if signed is None:
        raise _invalid("the signed content is not an XML document")
    return Verified(signer=signer, signed_root=signed)
