"""Agency certificates over their life (issue 19): listed with fingerprints, retired — kept on
record, out of the registry the hub signs by, out of the expiry figures and alerts."""

from __future__ import annotations

import json

import asyncpg

from hub.db import Q
from hub.registry import issuing, pki, revocation
from tests.harness import lienthong


def fingerprint_of(rows: list[dict[str, str]], organ: str) -> str | None:
    return next((r["fingerprint"] for r in rows if r["organ_id"] == organ), None)


def ok(env: dict[str, str], *args: str) -> str:
    ran = lienthong(env, *args)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return ran.stdout


async def test_a_retired_certificate_stays_on_record_but_signs_and_alerts_no_more(
    env, settings, organ_ids
) -> None:
    ok(env, "migrate")
    ok(env, "ca", "init")
    organ = organ_ids.new()
    ok(env, "agency", "add", organ, "--name", "Sở thử", "--issue", "--json")
    [listed] = json.loads(ok(env, "agency", "cert", "list", organ, "--json"))
    assert listed["organ_id"] == organ and listed["retired_at"] is None
    fingerprint = listed["fingerprint"]
    everyone = json.loads(ok(env, "agency", "cert", "list", "--json"))
    assert len(fingerprint) == 64 and fingerprint in {c["fingerprint"] for c in everyone}
    assert "in use" in ok(env, "agency", "cert", "list", organ)
    assert organ in ok(env, "ca", "expiring", "--days", "100000")
    expiring = json.loads(ok(env, "ca", "expiring", "--days", "100000", "--json"))
    assert (
        fingerprint_of(expiring, organ)
        == json.loads(ok(env, "agency", "cert", "list", organ, "--json"))[0]["fingerprint"]
    )

    refused = lienthong(env, "agency", "cert", "retire", fingerprint[:8])
    assert refused.returncode == 1 and "at least 16 hex digits" in refused.stderr
    unknown = lienthong(env, "agency", "cert", "retire", "0" * 16)
    assert unknown.returncode == 1 and "no agency certificate" in unknown.stderr

    retired = json.loads(ok(env, "agency", "cert", "retire", fingerprint[:16], "--json"))
    assert retired == {"organ_id": organ, "fingerprint": fingerprint, "retired_now": True}
    again = ok(env, "agency", "cert", "retire", fingerprint)
    assert "was already retired" in again
    [after] = json.loads(ok(env, "agency", "cert", "list", organ, "--json"))
    assert after["retired_at"] is not None and after["fingerprint"] == fingerprint
    assert organ not in ok(env, "ca", "expiring", "--days", "100000")
    gone = json.loads(ok(env, "ca", "expiring", "--days", "100000", "--json"))
    assert fingerprint_of(gone, organ) is None
    crls = json.loads(ok(env, "ca", "crl", "status", "--json"))
    assert crls and {c["state"] for c in crls} <= {"none", "fresh", "stale"}

    db = await asyncpg.connect(settings.database_url)
    try:
        held = {bytes(r["fingerprint"]).hex() for r in await db.fetch(Q.registry_certificates)}
        assert fingerprint not in held  # the hub's registry no longer takes its signatures
        kinds = [
            r["kind"] for r in await db.fetch("SELECT kind FROM event WHERE organ_id = $1", organ)
        ]
        assert kinds.count("certificate_retired") == 1
        from hub import metrics

        await revocation.observe(db)
        assert all(labels[0] != organ for labels in metrics.CERT_EXPIRY.values)
    finally:
        await db.close()


async def test_a_ca_untrusted_anchors_nothing_new_but_stays_on_record(
    env, settings, tmp_path
) -> None:
    ok(env, "migrate")
    ok(env, "ca", "init")
    [dev] = json.loads(ok(env, "ca", "list", "--json"))
    refused = lienthong(env, "ca", "untrust", dev["fingerprint_sha256"][:16])
    assert refused.returncode == 1 and "issued the hub's own certificate" in refused.stderr

    _, other = issuing.make_ca("another CA")
    pem = tmp_path / "other.pem"
    pem.write_text(pki.pem(other))
    ok(env, "ca", "trust", str(pem))
    fingerprint = pki.fingerprint(other).hex()
    said = json.loads(ok(env, "ca", "untrust", fingerprint, "--json"))
    assert said == {"subject": other.subject.rfc4514_string(), "untrusted_now": True}
    listed = {c["fingerprint_sha256"]: c for c in json.loads(ok(env, "ca", "list", "--json"))}
    assert (
        listed[fingerprint]["untrusted_at"] is not None
        and listed[dev["fingerprint_sha256"]]["untrusted_at"] is None
    )
    db = await asyncpg.connect(settings.database_url)
    try:
        anchors = {bytes(r["fingerprint"]).hex() for r in await db.fetch(Q.registry_trusted)}
    finally:
        await db.close()
    assert fingerprint not in anchors and dev["fingerprint_sha256"] in anchors
    assert "now trusted" in ok(env, "ca", "trust", str(pem))  # trusted again
    assert json.loads(ok(env, "audit", "verify", "--json"))["intact"]
