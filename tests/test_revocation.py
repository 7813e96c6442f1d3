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

from hub import home, pki, revocation
from hub.errors import CertificateRefused
from tests.conftest import random_organ_id
from tests.harness import World, running_hub


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
    stranger_key, stranger = pki.make_ca("stranger CA")
    with pytest.raises(CertificateRefused, match="not issued and signed by a CA this hub trusts"):
        await revocation.add(world.session.db, make_crl(stranger_key, stranger, [1]))
    # same issuer name, another key: still refused
    forger_key, _ = pki.make_ca("lienthong development CA")
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
