"""Certificate revocation lists: loaded with `lienthong ca crl add`, enforced as CERT_REVOKED."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from hub import home
from hub.errors import CertificateRefused
from hub.registry import issuing, pki, revocation
from tests.conftest import random_organ_id
from tests.harness import World, lienthong, running_hub


def make_crl(ca_key, ca_cert, serials: list[int], *, issued: dt.datetime | None = None) -> bytes:
    issued = issued or pki.utcnow()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(issued)
        .next_update(issued + dt.timedelta(days=7))
    )
    for serial in serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(issued).build()
        )
    return builder.sign(ca_key, hashes.SHA384()).public_bytes(serialization.Encoding.PEM)


async def test_a_revoked_certificate_is_refused(world: World, settings, env, tmp_path) -> None:
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    ca = home.load_dev_ca(settings)
    async with running_hub(settings):
        before = await world.send(sender, world.document(sender, [recipient]))
        assert (await world.receipts(sender, [before]))[before].outcome == "accepted"
        crl_file = tmp_path / "dev.crl"
        crl_file.write_bytes(make_crl(ca.key, ca.cert, [sender.cert.serial_number]))
        loaded = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "hub.cli", "ca", "crl", "add", str(crl_file)],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert loaded.returncode == 0, loaded.stderr
        assert "1 revoked certificate" in loaded.stdout
        await asyncio.sleep(3)  # the registry snapshot follows within seconds
        after = await world.send(sender, world.document(sender, [recipient]))
        got = (await world.receipts(sender, [after]))[after]
        assert got.code == "CERT_REVOKED", got.detail
        assert "revoked" in got.detail
        # another agency's certificate from the same CA is not affected
        other = await world.send(recipient, world.document(recipient, [sender]))
        assert (await world.receipts(recipient, [other]))[other].outcome == "accepted"


async def test_crls_not_signed_by_a_trusted_ca_or_older_are_refused(world: World, settings) -> None:
    ca = home.load_dev_ca(settings)
    stranger_key, stranger = issuing.make_ca("stranger CA")
    with pytest.raises(CertificateRefused, match="not issued and signed by a CA this hub trusts"):
        await revocation.add(world.session.db, make_crl(stranger_key, stranger, [1]))
    # same issuer name, another key: still refused
    forger_key, _ = issuing.make_ca("lienthong development CA")
    with pytest.raises(CertificateRefused):
        await revocation.add(world.session.db, make_crl(forger_key, ca.cert, [1]))
    now = pki.utcnow()
    loaded = await revocation.add(world.session.db, make_crl(ca.key, ca.cert, [7, 8], issued=now))
    assert loaded.revoked == 2
    with pytest.raises(CertificateRefused, match="older than the one already loaded"):
        await revocation.add(
            world.session.db, make_crl(ca.key, ca.cert, [], issued=now - dt.timedelta(hours=1))
        )
    with pytest.raises(CertificateRefused, match="not a CRL"):
        await revocation.add(world.session.db, b"garbage")


async def test_a_stale_crl_refuses_by_default_and_warns_when_told(
    world: World, settings, env, tmp_path
) -> None:
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    ca = home.load_dev_ca(settings)
    long_ago = pki.utcnow() - dt.timedelta(days=8)  # its nextUpdate passed a day ago
    await revocation.add(world.session.db, make_crl(ca.key, ca.cert, [], issued=long_ago))
    async with running_hub(settings):
        refused = await world.send(sender, world.document(sender, [recipient]))
        got = (await world.receipts(sender, [refused]))[refused]
        assert got.code == "CERT_REVOKED", got.detail
        assert "revocation status" in got.detail and "cannot be established" in got.detail
    status = await asyncio.to_thread(lienthong, env, "ca", "crl", "status")
    assert "STALE" in status.stdout, status.stdout
    from dataclasses import replace

    async with running_hub(replace(settings, stale_crl="warn")):
        accepted = await world.send(sender, world.document(sender, [recipient]))
        assert (await world.receipts(sender, [accepted]))[accepted].accepted
    from hub import metrics

    await revocation.observe(world.session.db)
    assert metrics.CRL_STALE.values[(ca.cert.subject.rfc4514_string(),)] == 1


async def test_crls_are_refreshed_from_the_distribution_point(
    world: World, settings, env, tmp_path
) -> None:
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    ca = home.load_dev_ca(settings)
    published = tmp_path / "dev.crl"
    published.write_bytes(make_crl(ca.key, ca.cert, []))
    fingerprint = pki.fingerprint(ca.cert).hex()
    ran = await asyncio.to_thread(
        lienthong, env, "ca", "crl", "url", fingerprint[:12], published.as_uri()
    )
    assert ran.returncode == 0, ran.stderr
    ran = await asyncio.to_thread(lienthong, env, "ca", "crl", "refresh")
    assert "loaded" in ran.stdout, ran.stdout + ran.stderr
    # the CA publishes a new CRL revoking the sender; the hub picks it up by itself
    published.write_bytes(
        make_crl(
            ca.key,
            ca.cert,
            [sender.cert.serial_number],
            issued=pki.utcnow() + dt.timedelta(seconds=1),
        )
    )
    from dataclasses import replace

    async with running_hub(replace(settings, crl_refresh_seconds=0.5)):
        deadline = asyncio.get_running_loop().time() + 60
        while asyncio.get_running_loop().time() < deadline:
            sent = await world.send(sender, world.document(sender, [recipient]))
            got = (await world.receipts(sender, [sent]))[sent]
            if got.code == "CERT_REVOKED":
                break
            await asyncio.sleep(1)
        assert got.code == "CERT_REVOKED", got.detail
    bad = await asyncio.to_thread(
        lienthong, env, "ca", "crl", "url", "no-such-ca", "http://x/y.crl"
    )
    assert bad.returncode == 1 and "exactly one trusted CA" in bad.stderr
