"""Issuing X.509 certificates, pure: the development CA, agencies' certificates (issued with
their key, or from their certificate signing request), and the hub's own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
)
from cryptography.x509.oid import NameOID

from hub.errors import CertificateRefused, Code
from hub.registry.pki import PrivateKey, check_key_strength, utcnow


def new_key(kind: str = "rsa") -> PrivateKey:
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError(f"unknown key kind {kind!r}: use rsa or ec")


def _name(common_name: str, organ_id: str | None = None) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "lienthong"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ]
    if organ_id is not None:
        attributes.append(x509.NameAttribute(NameOID.USER_ID, organ_id))
    return x509.Name(attributes)


def make_ca(
    common_name: str,
    *,
    days: int = 3650,
    issuer: tuple[CertificateIssuerPrivateKeyTypes, x509.Certificate] | None = None,
) -> tuple[PrivateKey, x509.Certificate]:
    """A CA: self-signed (a root), or with ``issuer`` an intermediate under that CA."""
    key = ec.generate_private_key(ec.SECP384R1())
    name = _name(common_name)
    signer_key, issuer_name = (key, name) if issuer is None else (issuer[0], issuer[1].subject)
    now = utcnow()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(
            x509.BasicConstraints(ca=True, path_length=1 if issuer is None else 0), critical=True
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(signer_key, hashes.SHA384())
    )
    return key, cert


@dataclass(frozen=True, kw_only=True, slots=True)
class IssueRequest:
    common_name: str
    organ_id: str | None = None
    key_kind: str = "rsa"
    not_before: dt.datetime | None = None
    days: int = 730


def issue(
    ca_key: CertificateIssuerPrivateKeyTypes,
    ca_cert: x509.Certificate,
    request: IssueRequest,
    *,
    key: PrivateKey | None = None,
) -> tuple[PrivateKey, x509.Certificate]:
    """A signing key and certificate from the development CA (signature, non-repudiation)."""
    key = key or new_key(request.key_kind)
    return key, certify(ca_key, ca_cert, request, key.public_key())


def sign_request(
    ca_key: CertificateIssuerPrivateKeyTypes,
    ca_cert: x509.Certificate,
    csr_pem: bytes,
    *,
    organ_id: str,
    days: int = 730,
) -> x509.Certificate:
    """A certificate for a key the agency made and kept (its certificate signing request):
    the private key never reaches the hub. The request's own signature and key strength are
    checked; the subject is the request's common name with the OrganId the operator names
    (UID), never one the request asks for."""
    try:
        csr = x509.load_pem_x509_csr(csr_pem)
    except ValueError:
        try:
            csr = x509.load_der_x509_csr(csr_pem)
        except ValueError as exc:
            raise CertificateRefused(
                Code.CERT_UNTRUSTED, "not a certificate signing request (PEM or DER)"
            ) from exc
    if not csr.is_signature_valid:
        raise CertificateRefused(
            Code.CERT_UNTRUSTED, "the request's signature does not verify (was it altered?)"
        )
    names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    common_name = str(names[0].value) if names else organ_id
    public = csr.public_key()
    probe = certify(
        ca_key,
        ca_cert,
        IssueRequest(common_name=common_name, organ_id=organ_id, days=days),
        public,
    )
    check_key_strength(probe, role="the requested key of")
    return probe


def certify(
    ca_key: CertificateIssuerPrivateKeyTypes,
    ca_cert: x509.Certificate,
    request: IssueRequest,
    public_key: CertificatePublicKeyTypes,
) -> x509.Certificate:
    """A signing certificate (signature, non-repudiation) for ``public_key``."""
    start = request.not_before or (utcnow() - dt.timedelta(minutes=5))
    return (
        x509.CertificateBuilder()
        .subject_name(_name(request.common_name, request.organ_id))
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=request.days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
