from __future__ import annotations

import datetime as dt
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from hub.errors import CertificateRefused, Code
from hub.registry import issuing, pki


@pytest.fixture(scope="module")
def ca() -> tuple[pki.PrivateKey, x509.Certificate]:
    return issuing.make_ca("test CA")


def test_a_certificate_from_a_trusted_ca_chains(ca) -> None:
    ca_key, ca_cert = ca
    _, cert = issuing.issue(
        ca_key, ca_cert, issuing.IssueRequest(common_name="A", organ_id="000.00.00.G22")
    )
    check = pki.check_chain(cert, trusted=[ca_cert])
    assert check.anchor == ca_cert
    assert check.warnings == ()


def test_a_certificate_from_another_ca_is_untrusted(ca) -> None:
    other_key, other_cert = issuing.make_ca("someone else's CA")
    _, cert = issuing.issue(other_key, other_cert, issuing.IssueRequest(common_name="A"))
    with pytest.raises(CertificateRefused) as caught:
        pki.check_chain(cert, trusted=[ca[1]])
    assert caught.value.code is Code.CERT_UNTRUSTED
    assert "does not chain to a CA this hub trusts" in caught.value.detail


def test_a_forged_issuer_name_does_not_chain(ca) -> None:
    """Same issuer name as the trusted CA, but signed by another key."""
    _, ca_cert = ca
    forger_key, _ = issuing.make_ca("test CA")
    _, cert = issuing.issue(forger_key, ca_cert, issuing.IssueRequest(common_name="A"))
    with pytest.raises(CertificateRefused) as caught:
        pki.check_chain(cert, trusted=[ca_cert])
    assert caught.value.code is Code.CERT_UNTRUSTED


def test_an_intermediate_in_the_bundle_completes_the_chain(ca) -> None:
    ca_key, ca_cert = ca
    inter_key, _ = issuing.make_ca("intermediate")
    now = pki.utcnow()
    inter_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name.from_rfc4514_string("CN=intermediate"))
        .issuer_name(ca_cert.subject)
        .public_key(inter_key.public_key())
        .serial_number(7)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    _, leaf = issuing.issue(inter_key, inter_cert, issuing.IssueRequest(common_name="leaf"))
    with pytest.raises(CertificateRefused):
        pki.check_chain(leaf, trusted=[ca_cert])
    assert pki.check_chain(leaf, intermediates=[inter_cert], trusted=[ca_cert]).anchor == ca_cert


def test_rsa_1024_is_weak(ca) -> None:
    ca_key, ca_cert = ca
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    _, cert = issuing.issue(ca_key, ca_cert, issuing.IssueRequest(common_name="weak"), key=small)
    with pytest.raises(CertificateRefused) as caught:
        pki.check_chain(cert, trusted=[ca_cert])
    assert caught.value.code is Code.ALGORITHM_WEAK
    assert "1024 bits" in caught.value.detail


def test_a_non_rsa_non_ecdsa_key_is_weak(ca) -> None:
    ca_key, ca_cert = ca
    key = ed25519.Ed25519PrivateKey.generate()
    now = pki.utcnow()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name.from_rfc4514_string("CN=ed"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(9)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(ca_key, hashes.SHA256())
    )
    with pytest.raises(CertificateRefused) as caught:
        pki.check_chain(cert, trusted=[ca_cert])
    assert caught.value.code is Code.ALGORITHM_WEAK


def test_a_sha1_signed_certificate_is_weak(tmp_path) -> None:
    """cryptography will not make SHA-1 signatures any more; openssl still can."""
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-sha1",
            "-days",
            "2",
            "-subj",
            "/CN=old CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-keyout",
            str(tmp_path / "ca.key"),
            "-out",
            str(tmp_path / "ca.pem"),
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            "openssl",
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=sha1",
            "-keyout",
            str(tmp_path / "leaf.key"),
            "-out",
            str(tmp_path / "leaf.csr"),
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            "openssl",
            "x509",
            "-req",
            "-sha1",
            "-days",
            "2",
            "-in",
            str(tmp_path / "leaf.csr"),
            "-CA",
            str(tmp_path / "ca.pem"),
            "-CAkey",
            str(tmp_path / "ca.key"),
            "-CAcreateserial",
            "-out",
            str(tmp_path / "leaf.pem"),
        ],
        check=True,
        capture_output=True,
    )
    ca_cert = x509.load_pem_x509_certificate((tmp_path / "ca.pem").read_bytes())
    cert = x509.load_pem_x509_certificate((tmp_path / "leaf.pem").read_bytes())
    with pytest.raises(CertificateRefused) as caught:
        pki.check_chain(cert, trusted=[ca_cert])
    assert caught.value.code is Code.ALGORITHM_WEAK
    assert "SHA1" in caught.value.detail


def test_expired_and_not_yet_valid_are_accepted_with_a_warning(ca) -> None:
    ca_key, ca_cert = ca
    past = pki.utcnow() - dt.timedelta(days=400)
    _, old = issuing.issue(
        ca_key, ca_cert, issuing.IssueRequest(common_name="old", not_before=past, days=30)
    )
    future = pki.utcnow() + dt.timedelta(days=10)
    _, renewal = issuing.issue(
        ca_key, ca_cert, issuing.IssueRequest(common_name="new", not_before=future)
    )
    assert "expired on" in pki.check_chain(old, trusted=[ca_cert]).warnings[0]
    assert "not valid until" in pki.check_chain(renewal, trusted=[ca_cert]).warnings[0]


def test_only_ca_certificates_are_trust_anchors(ca) -> None:
    ca_key, ca_cert = ca
    _, leaf = issuing.issue(ca_key, ca_cert, issuing.IssueRequest(common_name="leaf"))
    assert pki.check_trust_anchor(ca_cert) == ()
    with pytest.raises(CertificateRefused, match="not a CA certificate"):
        pki.check_trust_anchor(leaf)


def test_pem_and_der_load_and_garbage_is_refused(ca) -> None:
    _, ca_cert = ca
    from cryptography.hazmat.primitives import serialization

    assert pki.load_certificates(pki.pem(ca_cert).encode()) == [ca_cert]
    assert pki.load_certificates(ca_cert.public_bytes(serialization.Encoding.DER)) == [ca_cert]
    with pytest.raises(CertificateRefused):
        pki.load_certificates(b"not a certificate")


def test_a_refused_signer_is_named_by_its_subject() -> None:
    """hub.check.trust builds the subject's name only for a refusal; the refusal names it."""
    from hub.check import trust
    from hub.errors import PackageRejected

    ca_key, ca = issuing.make_ca("subject CA")
    _, cert = issuing.issue(ca_key, ca, issuing.IssueRequest(common_name="Văn thư Bộ A"))
    with pytest.raises(PackageRejected) as refused:
        trust.check_signer(cert, trust.Snapshot(), dt.datetime.now(dt.UTC))
    assert refused.value.code is Code.CERT_UNTRUSTED
    assert "CN=Văn thư Bộ A" in refused.value.detail
