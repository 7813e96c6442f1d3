"""Evidence bundles: exported from a real exchange, verified offline, and failing precisely after
a one-byte change anywhere in them; receipts verified by an independent XML-DSig implementation."""

from __future__ import annotations

import asyncio
import io
import subprocess
import zipfile
from pathlib import Path

import pytest

from hub import home
from hub.audit import evidence
from hub.registry import issuing, pki
from tests.conftest import random_organ_id
from tests.harness import World, lienthong, running_hub


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        return {name: bundle.read(name) for name in bundle.namelist()}


def rezip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as bundle:
        for name, data in files.items():
            bundle.writestr(name, data)
    return buffer.getvalue()


def flip(data: bytes, at: int) -> bytes:
    changed = bytearray(data)
    changed[at] ^= 0x01
    return bytes(changed)


@pytest.fixture
async def bundle(world: World, settings, env, tmp_path: Path) -> tuple[bytes, str]:
    """A document sent, delivered, answered with 01 and 03; exported as a bundle."""
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    document_id = f"{sender.organ_id},2026/11/23,{random_organ_id()[-3:]}/CV"
    async with running_hub(settings):
        sent = await world.send(
            sender, world.document(sender, [recipient], document_id=document_id)
        )
        assert (await world.receipts(sender, [sent]))[sent].accepted
        for code in ("01", "03"):
            status = await world.send(
                recipient,
                world.status(recipient, sender.organ_id, document_id, code),
                kind="status",
            )
            assert (await world.receipts(recipient, [status]))[status].accepted
    out = tmp_path / "evidence.zip"
    made = await asyncio.to_thread(
        lienthong, env, "evidence", "export", document_id, "-o", str(out)
    )
    assert made.returncode == 0, made.stderr
    return out.read_bytes(), document_id


def ca_file(settings, tmp_path: Path) -> Path:
    path = tmp_path / "trusted-ca.pem"
    path.write_text(pki.pem(home.load_dev_ca(settings).cert))
    return path


async def test_a_bundle_verifies_offline_with_nothing_but_a_ca_file(
    bundle, settings, env, tmp_path
) -> None:
    data, document_id = bundle
    files = members(data)
    assert {n.split("/")[0] for n in files} == {
        "packages",
        "receipts",
        "chains",
        "seals",
        "certificates",
        "document.json",
        "README.txt",
        "manifest.json",
        "manifest.sig",
    }
    assert len([n for n in files if n.startswith("packages/")]) == 3  # document, 01, 03
    assert len([n for n in files if n.startswith("chains/")]) == 2  # sender's, recipient's
    # offline: another process, an empty database URL, only the bundle and the CA file
    offline = {"LIENTHONG_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    (tmp_path / "b.zip").write_bytes(data)
    ran = await asyncio.to_thread(
        lienthong,
        {**env, **offline},
        "evidence",
        "verify",
        str(tmp_path / "b.zip"),
        "--ca",
        str(ca_file(settings, tmp_path)),
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert f"verified: document {document_id}" in ran.stdout
    assert "signature verifies" in ran.stdout and "to the head sealed in seal" in ran.stdout
    # a CA the auditor does not trust: refused
    _, stranger = issuing.make_ca("stranger CA")
    report = evidence.verify(data, [stranger])
    assert not report.ok and "not issued by a CA you trust" in report.problems[0]


async def test_a_one_byte_change_anywhere_is_named(bundle, settings, tmp_path) -> None:
    data, _ = bundle
    trusted = [home.load_dev_ca(settings).cert]
    assert evidence.verify(data, trusted).ok
    files = members(data)
    for name, content in files.items():
        for at in (0, len(content) // 2, len(content) - 2):
            changed = dict(files)
            changed[name] = flip(content, at)
            report = evidence.verify(rezip(changed), trusted)
            assert not report.ok, f"a change at byte {at} of {name} went unnoticed"
            assert name in report.problems[0], (name, at, report.problems)
    # a byte of the zip itself, inside a stored file: the zip's own CRC catches it
    offset = data.index(files["document.json"][:40])
    report = evidence.verify(flip(data, offset + 10), trusted)
    assert not report.ok and "document.json" in report.problems[0], report.problems
    # a file added, a file removed
    report = evidence.verify(rezip({**files, "packages/99-edoc-accepted.edxml": b"<x/>"}), trusted)
    assert (
        "packages/99-edoc-accepted.edxml: not listed in the signed manifest" in report.problems[0]
    )
    without = {n: c for n, c in files.items() if not n.startswith("receipts/02")}
    report = evidence.verify(rezip(without), trusted)
    assert report.problems[0].startswith("receipts/02.xml: listed in the manifest but missing")


async def test_a_receipt_verifies_with_xmlsec1(bundle, settings, tmp_path) -> None:
    data, _ = bundle
    receipt = tmp_path / "receipt.xml"
    receipt.write_bytes(members(data)["receipts/01.xml"])
    ca = ca_file(settings, tmp_path)
    ok = subprocess.run(
        ["xmlsec1", "--verify", "--trusted-pem", str(ca), str(receipt)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    assert "OK" in ok.stderr or "OK" in ok.stdout
    receipt.write_bytes(receipt.read_bytes().replace(b"accepted", b"rejected", 1))
    bad = subprocess.run(
        ["xmlsec1", "--verify", "--trusted-pem", str(ca), str(receipt)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode != 0
