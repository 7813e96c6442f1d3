"""X.509 for the hub, pure: the checks a certificate must pass, keys, fingerprints and raw
signatures (issuing certificates is :mod:`hub.registry.issuing`).

The registry refuses a certificate that does not chain to a trusted CA (``CERT_UNTRUSTED``)
or has a weak key or signature hash (``ALGORITHM_WEAK``), and accepts — with a warning — one
that is expired or not yet valid, because renewals are registered ahead of time and old
certificates stay on record to verify old documents.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificatePublicKeyTypes,
)
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from hub.errors import CertificateRefused, Code, RegistryError

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

MIN_RSA_BITS = 2048
MIN_EC_BITS = 256
WEAK_HASHES = ("sha1", "md5")
MAX_CHAIN = 6


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def fingerprint(cert: x509.Certificate) -> bytes:
    """SHA-256 of the DER certificate: how the hub names an exact certificate."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate in a PEM bundle, or the single certificate of a DER file."""
    if b"-----BEGIN" in data:
        try:
            return x509.load_pem_x509_certificates(data)
        except ValueError as exc:
            raise CertificateRefused(Code.CERT_UNTRUSTED, f"not a PEM certificate: {exc}") from exc
    try:
        return [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise CertificateRefused(
            Code.CERT_UNTRUSTED, f"not a certificate (neither PEM nor DER): {exc}"
        ) from exc


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_private_key(data: bytes) -> PrivateKey:
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError(f"unsupported key type {type(key).__name__}: use RSA or ECDSA")
    return key


def describe_key(key: CertificatePublicKeyTypes) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA-{key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC-{key.curve.name}"
    return type(key).__name__.removeprefix("_").removesuffix("PublicKey")


def check_key_strength(cert: x509.Certificate, *, role: str) -> None:
    """Refuse RSA under 2048 bits, EC under 256 bits and every other key type."""
    key = cert.public_key()
    subject = cert.subject.rfc4514_string()
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise CertificateRefused(
                Code.ALGORITHM_WEAK,
                f"{role} {subject} has an RSA key of {key.key_size} bits; "
                f"at least {MIN_RSA_BITS} are required",
            )
        return
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.key_size < MIN_EC_BITS:
            raise CertificateRefused(
                Code.ALGORITHM_WEAK,
                f"{role} {subject} has an EC key on {key.curve.name}; "
                f"use a curve of at least {MIN_EC_BITS} bits (P-256 or stronger)",
            )
        return
    raise CertificateRefused(
        Code.ALGORITHM_WEAK,
        f"{role} {subject} has a {describe_key(key)} key; only RSA and ECDSA are accepted",
    )


def check_signature_hash(cert: x509.Certificate, *, role: str) -> None:
    algorithm = cert.signature_hash_algorithm
    if algorithm is not None and algorithm.name in WEAK_HASHES:
        raise CertificateRefused(
            Code.ALGORITHM_WEAK,
            f"{role} {cert.subject.rfc4514_string()} is signed with {algorithm.name.upper()}; "
            "SHA-256 or stronger is required",
        )


def is_ca(cert: x509.Certificate) -> bool:
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False
    return constraints.ca


def validity_warning(cert: x509.Certificate, now: dt.datetime, *, role: str) -> str | None:
    subject = cert.subject.rfc4514_string()
    if now < cert.not_valid_before_utc:
        return f"{role} {subject} is not valid until {cert.not_valid_before_utc:%Y-%m-%d %H:%M}Z"
    if now > cert.not_valid_after_utc:
        return f"{role} {subject} expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M}Z"
    return None


@dataclass(frozen=True, kw_only=True, slots=True)
class ChainCheck:
    """What registering a certificate established."""

    certificate: x509.Certificate
    anchor: x509.Certificate
    """The trusted CA the certificate chains to."""
    warnings: tuple[str, ...]


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True


def check_chain(
    leaf: x509.Certificate,
    *,
    intermediates: Sequence[x509.Certificate] = (),
    trusted: Iterable[x509.Certificate],
    now: dt.datetime | None = None,
) -> ChainCheck:
    """Check that ``leaf`` chains to one of ``trusted`` through ``intermediates``.

    Raises :class:`CertificateRefused` (``CERT_UNTRUSTED`` or ``ALGORITHM_WEAK``); validity
    periods only produce warnings here — the signature check decides ``CERT_EXPIRED``.
    """
    now = now or utcnow()
    anchors = {fingerprint(c): c for c in trusted}
    check_key_strength(leaf, role="certificate")
    check_signature_hash(leaf, role="certificate")
    warnings: list[str] = []
    warning = validity_warning(leaf, now, role="certificate")
    if warning:
        warnings.append(warning)
    current = leaf
    for _ in range(MAX_CHAIN):
        if fingerprint(current) in anchors and current is not leaf:
            return ChainCheck(certificate=leaf, anchor=current, warnings=tuple(warnings))
        anchor = next((a for a in anchors.values() if _issued_by(current, a)), None)
        if anchor is not None:
            return ChainCheck(certificate=leaf, anchor=anchor, warnings=tuple(warnings))
        step = next((c for c in intermediates if c is not current and _issued_by(current, c)), None)
        if step is None:
            break
        if not is_ca(step):
            raise CertificateRefused(
                Code.CERT_UNTRUSTED,
                f"{step.subject.rfc4514_string()} issued {current.subject.rfc4514_string()} "
                "but is not a CA certificate",
            )
        check_key_strength(step, role="intermediate CA")
        check_signature_hash(step, role="intermediate CA")
        current = step
    raise CertificateRefused(
        Code.CERT_UNTRUSTED,
        f"certificate {leaf.subject.rfc4514_string()} (issuer {leaf.issuer.rfc4514_string()}) "
        "does not chain to a CA this hub trusts; trust its CA first with "
        "`lienthong ca trust <ca.pem>`",
    )


def check_trust_anchor(cert: x509.Certificate, now: dt.datetime | None = None) -> tuple[str, ...]:
    """Checks before trusting a CA; returns warnings, raises on a refusal."""
    if not is_ca(cert):
        raise CertificateRefused(
            Code.CERT_UNTRUSTED,
            f"{cert.subject.rfc4514_string()} is not a CA certificate "
            "(basicConstraints CA:TRUE is missing)",
        )
    check_key_strength(cert, role="CA")
    warning = validity_warning(cert, now or utcnow(), role="CA")
    return (warning,) if warning else ()


# --- issuing (development CA) ---------------------------------------------------------------


def sign_bytes(key: PrivateKey, data: bytes) -> bytes:
    """A detached signature (RSA PKCS#1 v1.5 or ECDSA, both SHA-256) — how seals are signed."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def sign_xmldsig(key: PrivateKey, data: bytes) -> bytes:
    """An XML-DSig ``SignatureValue``: RSA PKCS#1 v1.5, or ECDSA as the fixed-width r ‖ s that
    XML-DSig prescribes (RFC 4050; not the DER form :func:`sign_bytes` returns)."""
    signature = sign_bytes(key, data)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        return signature
    r, s = decode_dss_signature(signature)
    width = (key.curve.key_size + 7) // 8
    return r.to_bytes(width, "big") + s.to_bytes(width, "big")


def verify_bytes(cert: x509.Certificate, signature: bytes, data: bytes) -> bool:
    try:
        key = cert.public_key()
    except ValueError:
        return False
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
    except InvalidSignature:
        return False
    return True


def fingerprint_prefix(text: str, *, what: str, listed_by: str) -> str:
    """A SHA-256 fingerprint, or its first 16 or more hex digits, as an operator types it
    (colons and case ignored). Raises :class:`~hub.errors.RegistryError` naming ``what`` and
    the command that lists them."""
    prefix = text.strip().lower().replace(":", "")
    if len(prefix) < 16 or any(c not in "0123456789abcdef" for c in prefix):
        raise RegistryError(
            f"{text!r} is not a {what} fingerprint: give at least 16 hex digits of its SHA-256 "
            f"({listed_by} shows them)"
        )
    return prefix
