"""Retention of package bodies (issue 19): old packages' bytes are archived (checked against
their digests) or dropped; the chains stay intact, evidence bundles take the bytes from the
archive or say they were not kept, and still verify."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import asyncpg

from hub import home
from tests.conftest import random_organ_id
from tests.harness import World, lienthong, running_hub


def ok(env: dict[str, str], *args: str) -> str:
    ran = lienthong(env, *args)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return ran.stdout


async def sql(url: str, query: str, *args: object) -> list[asyncpg.Record]:
    db = await asyncpg.connect(url)
    try:
        return list(await db.fetch(query, *args))
    finally:
        await db.close()


async def test_old_bodies_are_archived_or_dropped_and_stay_provable(
    world: World, settings, env, tmp_path: Path
) -> None:
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    ids = [f"{sender.organ_id},2025/11/23,{n}/CV" for n in (1, 2)]
    bodies = [world.document(sender, [recipient], document_id=d) for d in ids]
    async with running_hub(settings):
        for body in bodies:
            sent = await world.send(sender, body)
            assert (await world.receipts(sender, [sent]))[sent].accepted
    url = settings.database_url
    old = "UPDATE package SET decided_at = now() - interval '400 days' WHERE document_id = $1"
    await sql(url, old, ids[0])

    planned = json.loads(ok(env, "retention", "--older-than", "365", "--dry-run", "--json"))
    assert planned["packages"] == 1 and planned["bytes"] == len(bodies[0]) and planned["dry_run"]
    unsaid = lienthong(env, "retention", "--older-than", "365")
    assert unsaid.returncode == 1 and "--archive DIR, or --drop" in unsaid.stderr

    archive = tmp_path / "archive"
    done = json.loads(
        ok(env, "retention", "--older-than", "365", "--archive", str(archive), "--json")
    )
    assert done["packages"] == 1 and not done["dry_run"]
    [row] = await sql(url, "SELECT body, body_archive FROM package WHERE document_id = $1", ids[0])
    assert row["body"] is None and Path(row["body_archive"]).read_bytes() == bodies[0]
    [kept] = await sql(url, "SELECT body FROM package WHERE document_id = $1", ids[1])
    assert bytes(kept["body"]) == bodies[1]  # a young package keeps its bytes
    assert json.loads(ok(env, "audit", "verify", "--json"))["intact"]

    ca = str(home.ca_paths(settings)[1])

    async def bundle_of(document_id: str, name: str) -> dict[str, object]:
        out = tmp_path / name
        await asyncio.to_thread(
            ok, env, "evidence", "export", document_id, "-o", str(out), "--sender", sender.organ_id
        )
        return json.loads(
            await asyncio.to_thread(ok, env, "evidence", "verify", str(out), "--ca", ca, "--json")
        )

    from_archive = await bundle_of(ids[0], "archived.zip")
    assert from_archive["verified"] and not from_archive["notes"]  # the bytes, from the archive

    await sql(url, old, ids[1])
    ok(env, "retention", "--older-than", "365", "--drop")
    dropped = await bundle_of(ids[1], "dropped.zip")
    assert dropped["verified"]
    assert any("dropped by retention" in note for note in dropped["notes"])  # type: ignore[attr-defined]

    Path(row["body_archive"]).unlink()  # the archive lost a file: said, not hidden
    lost = await bundle_of(ids[0], "lost.zip")
    assert lost["verified"] and any("cannot be read now" in n for n in lost["notes"])  # type: ignore[attr-defined]
