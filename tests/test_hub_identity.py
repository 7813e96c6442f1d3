"""The hub's own key and certificate (issue 19): a certificate issued by an intermediate CA
comes with it in cert.pem and is served whole; a hub whose certificate does not chain to a CA
it trusts refuses to start (its seals would all fail `lienthong audit verify`)."""

from __future__ import annotations

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from hub import home
from hub.errors import ConfigError
from hub.registry import issuing, pki, registry
from hub.server import check_own_certificate
from hub.session import open_session
from tests.harness import running_hub


def intermediate(
    root_key: ec.EllipticCurvePrivateKey, root: x509.Certificate
) -> tuple[issuing.PrivateKey, x509.Certificate]:
    return issuing.make_ca("lienthong issuing CA", days=365, issuer=(root_key, root))


def test_a_hub_certificate_under_an_intermediate_chains_with_it(settings) -> None:
    root_key, root = issuing.make_ca("lienthong root CA")
    assert isinstance(root_key, ec.EllipticCurvePrivateKey)
    inter_key, inter = intermediate(root_key, root)
    key, cert = issuing.issue(inter_key, inter, issuing.IssueRequest(common_name="lienthong hub"))
    home.write_private(settings.hub_key_path, pki.key_pem(key))
    home.write_public(settings.hub_cert_path, (pki.pem(cert) + pki.pem(inter)).encode())
    identity = home.load_hub_identity(settings)
    assert identity.cert == cert and identity.intermediates == (inter,)
    # seals carry the hub's certificate alone: the CA that issued it is the one to trust
    check_own_certificate(identity, [inter])
    with pytest.raises(ConfigError, match="the intermediate CA itself"):
        check_own_certificate(identity, [root])


async def test_a_hub_whose_certificate_nobody_trusts_refuses_to_start(settings) -> None:
    home.init_dev_ca(settings)  # the key is there, its CA not trusted
    with pytest.raises(ConfigError, match="lienthong ca trust"):
        async with running_hub(settings):
            pass


async def test_the_hub_serves_its_certificate_with_its_intermediates(settings) -> None:
    root_key, root = issuing.make_ca("lienthong root CA")
    assert isinstance(root_key, ec.EllipticCurvePrivateKey)
    inter_key, inter = intermediate(root_key, root)
    key, cert = issuing.issue(inter_key, inter, issuing.IssueRequest(common_name="lienthong hub"))
    home.write_private(settings.hub_key_path, pki.key_pem(key))
    home.write_public(settings.hub_cert_path, (pki.pem(cert) + pki.pem(inter)).encode())
    async with open_session(settings) as session:
        await registry.trust_ca(session.db, inter, source="test")
    async with running_hub(settings, http=True) as base, httpx.AsyncClient() as client:
        served = (await client.get(f"{base}/api/v1/hub/certificate")).content
    assert x509.load_pem_x509_certificates(served) == [cert, inter]
