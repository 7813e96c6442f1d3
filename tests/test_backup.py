"""The restore drill (issue 19): a hub with records is backed up (`lienthong backup`), restored
into a fresh database and LIENTHONG_HOME (`lienthong restore`), `lienthong audit verify` finds
the records intact and says a restore happened, and a hub started on them carries on: the
earlier document is known (a resubmission is a replay), a new one is accepted."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import asyncpg

from hub import config
from hub.db.connection import with_database
from tests.conftest import SERVER_URL, random_organ_id
from tests.harness import World, lienthong, running_hub


def ok(env: dict[str, str], *args: str) -> str:
    ran = lienthong(env, *args)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return ran.stdout


async def count(url: str, query: str) -> int:
    db = await asyncpg.connect(url)
    try:
        return int(await db.fetchval(query))
    finally:
        await db.close()


async def test_a_backup_restores_into_a_fresh_database_and_the_hub_resumes(
    world: World, settings, env, tmp_path: Path
) -> None:
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    body = world.document(sender, [recipient])
    async with running_hub(settings):
        first = await world.send(sender, body)
        assert (await world.receipts(sender, [first]))[first].accepted
    ok(env, "audit", "seal")

    folder = tmp_path / "backup"
    manifest = json.loads(ok(env, "backup", str(folder), "--json"))
    assert manifest["packages"] >= 1 and manifest["schema"] >= 9
    assert {p.name for p in folder.iterdir()} == {
        "manifest.json",
        "database.dump",
        "home.tar",
        "rabbitmq-definitions.json",
    }
    secret = [p for p in folder.iterdir() if p.name != "manifest.json"]
    assert all(p.stat().st_mode & 0o077 == 0 for p in secret)  # keys, password hashes
    users = {
        u["name"] for u in json.loads((folder / "rabbitmq-definitions.json").read_text())["users"]
    }
    assert sender.organ_id in users  # the agencies' broker users are in the definitions
    again = lienthong(env, "backup", str(folder))
    assert again.returncode == 1 and "not empty" in again.stderr

    name = f"{settings.database_name}_restored"
    restored_env = {
        **env,
        "LIENTHONG_DATABASE_URL": with_database(SERVER_URL, name),
        "LIENTHONG_HOME": str(tmp_path / "restored-home"),
    }
    try:
        # a damaged backup is refused before anything is written
        damaged = tmp_path / "damaged"
        damaged.mkdir()
        for p in folder.iterdir():
            (damaged / p.name).write_bytes(p.read_bytes())
        with (damaged / "database.dump").open("ab") as handle:
            handle.write(b"x")
        refused = lienthong(restored_env, "restore", str(damaged))
        assert refused.returncode == 1 and "does not match the manifest" in refused.stderr

        said = ok(restored_env, "restore", str(folder))
        assert "restored the backup taken" in said
        verified = ok(restored_env, "audit", "verify")
        assert "intact:" in verified and "from a backup taken" in verified
        report = json.loads(ok(restored_env, "audit", "verify", "--json"))
        assert report["intact"] and report["findings"] == []
        assert [r["backup_taken_at"] for r in report["restores"]] == [manifest["taken_at"]]
        query = "SELECT count(*) FROM package"
        assert await count(restored_env["LIENTHONG_DATABASE_URL"], query) == await count(
            settings.database_url, query
        )
        into_it_again = lienthong(restored_env, "restore", str(folder))
        assert into_it_again.returncode == 1 and "is not empty" in into_it_again.stderr

        # the hub carries on from the restored records, with the restored key
        restored = dataclasses.replace(
            settings,
            database_url=restored_env["LIENTHONG_DATABASE_URL"],
            home=Path(restored_env["LIENTHONG_HOME"]),
        )
        assert config.load(restored_env).home == restored.home
        async with running_hub(restored):
            await world.send(sender, body, message_id=first)
            replayed = (await world.receipts(sender, [first]))[first]
            fresh = await world.send(sender, world.document(sender, [recipient]))
            accepted = (await world.receipts(sender, [fresh]))[fresh]
        assert replayed.accepted and accepted.accepted
        assert await world.drain(recipient, wait=1.0)  # the new document was delivered
    finally:
        admin = await asyncpg.connect(with_database(SERVER_URL, "postgres"))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
