"""The national directory: bulk import with line-by-line refusals, export, identifier changes,
and a running hub that follows each change without reloading everything."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from hub.check.decision import local_date
from hub.db import create_pool
from hub.errors import RegistryError
from hub.registry import directory, registry_cache
from hub.registry.directory import Entry, Known
from tests.conftest import random_organ_id
from tests.harness import World, lienthong

TODAY = dt.date(2026, 12, 5)
SYSTEMS = frozenset({"vxp.a", "vxp.b"})


def rows(*lines: dict[str, str]) -> list[tuple[int, dict[str, str]]]:
    return [(number, line) for number, line in enumerate(lines, start=2)]


def line(organ: str, *, name: str = "x", system: str = "vxp.a", **more: str) -> dict[str, str]:
    return {"organ_id": organ, "name": name, "system_id": system, **more}


def test_every_bad_line_is_refused_with_its_line_and_reason() -> None:
    known = Known(
        agencies={
            "000.00.00.H40": Entry(
                organ_id="000.00.00.H40",
                name="Nghệ An (cũ)",
                parent_id=None,
                system_id="vxp.a",
                state="active",
                successor_id=None,
                closed_on=None,
            )
        },
        systems=SYSTEMS,
    )
    decided = directory.plan(
        rows(
            line("000.00.00.H41", name="UBND tỉnh Nghệ An"),  # 2: fine
            line("not an id"),  # 3: malformed
            line("000.00.00.H41"),  # 4: duplicate of line 2
            line("000.00.14.H20", parent_id="000.00.00.X99"),  # 5: unknown parent
            line("000.00.15.H20", system="vxp.nowhere"),  # 6: unknown system
            line("000.00.16.H20", parent_id="000.00.17.H20"),  # 7: cycle of parents
            line("000.00.17.H20", parent_id="000.00.16.H20"),  # 8: cycle of parents
            line("000.00.18.H20", parent_id="000.00.14.H20"),  # 9: its parent was refused
            line(
                "000.00.00.H40", name="Nghệ An (cũ)", state="closed", successor_id="000.00.00.H41"
            ),
            line("000.00.00.A01", state="closed", successor_id="000.00.00.A02"),  # 11: cycle
            line("000.00.00.A02", state="closed", successor_id="000.00.00.A01"),  # 12: cycle
            line("000.00.00.B01", name=""),  # 13: no name
            line("000.00.00.B02", state="gone"),  # 14: bad state
        ),
        known,
        TODAY,
    )
    refused = {r.line: r.reason for r in decided.refused}
    assert set(refused) == {3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14}, refused
    assert "duplicate of line 2" in refused[4]
    assert "unknown parent" in refused[5] and "unknown system" in refused[6]
    assert "cycle of parents" in refused[7] and "unknown parent" in refused[9]
    assert "cycle of successors" in refused[11]
    assert [e.organ_id for e in decided.added] == ["000.00.00.H41"]
    assert [e.organ_id for e in decided.changed] == ["000.00.00.H40"]
    assert decided.closed == 1


def test_a_chain_of_closures_resolves_and_an_unchanged_line_is_unchanged() -> None:
    entry = Entry(
        organ_id="000.00.00.H41",
        name="x",
        parent_id=None,
        system_id="vxp.a",
        state="active",
        successor_id=None,
        closed_on=None,
    )
    known = Known(agencies={entry.organ_id: entry}, systems=SYSTEMS)
    decided = directory.plan(
        rows(
            line("000.00.00.H41"),
            line("000.00.00.C01", state="closed", successor_id="000.00.00.C02"),
            line("000.00.00.C02", state="closed", successor_id="000.00.00.C03"),
            line("000.00.00.C03"),
        ),
        known,
        TODAY,
    )
    assert decided.refused == () and decided.unchanged == 1 and decided.closed == 2


async def test_import_export_and_a_running_hub_follows(world: World, settings, env) -> None:
    platform = await world.system(f"vxp.dir.{uuid.uuid4().hex[:6]}")
    top, child, old, new = (random_organ_id() for _ in range(4))
    pool = await create_pool(settings.database_url, min_size=1, max_size=2)
    cache = registry_cache.RegistryCache(pool, settings.database_url)
    await cache.start()
    csv_text = (
        "organ_id,name,parent_id,system_id,state,successor_id\n"
        f"{top},UBND tỉnh,,{platform.system_id},active,\n"
        f"{child},Sở Nội vụ,{top},{platform.system_id},active,\n"
        f"{new},UBND xã mới,{top},{platform.system_id},active,\n"
        f"{old},UBND xã cũ,{top},{platform.system_id},closed,{new}\n"
        f"bad id!,x,,{platform.system_id},active,\n"
    )
    path = settings.home / "directory.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(csv_text, encoding="utf-8")
    refused = lienthong(env, "directory", "import", str(path), "--json")
    assert refused.returncode == 1
    summary = json.loads(refused.stdout)
    assert summary["applied"] is False and [r["line"] for r in summary["refused"]] == [6]
    done = json.loads(
        lienthong(env, "directory", "import", str(path), "--partial", "--json").stdout
    )
    assert (done["added"], done["closed"], done["applied"]) == (4, 1, True)
    again = json.loads(
        lienthong(env, "directory", "import", str(path), "--partial", "--json").stdout
    )
    assert (again["added"], again["changed"], again["unchanged"]) == (0, 0, 4)

    exported = json.loads(lienthong(env, "directory", "export", "--format", "json").stdout)
    by_id = {a["organ_id"]: a for a in exported}
    assert by_id[old]["successor_id"] == new and by_id[child]["parent_id"] == top

    # the running hub's registry follows the import by its change log, not a reload
    applied = await cache.follow()
    assert applied >= 4
    snapshot = cache.snapshot
    assert snapshot.system_of(child) == platform.system_id
    # the import dates a closure by the day in Vietnam, which is not the machine's from 17:00 UTC
    closure = snapshot.closed(old, local_date(dt.datetime.now(dt.UTC)))
    assert closure is not None and closure.successor == new
    # one more change is one more row read
    await world.session.db.execute("UPDATE agency SET state = 'suspended' WHERE organ_id = $1", top)
    assert await cache.follow() == 1
    assert cache.snapshot.state_of(top) == "suspended"
    assert await cache.follow() == 0
    await pool.close()


async def test_closing_refuses_a_cycle_and_an_unknown_successor(world: World) -> None:
    a, b = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    db = world.session.db
    await directory.close(db, a.organ_id, b.organ_id, dt.date.today())
    with pytest.raises(RegistryError, match="cycle"):
        await directory.close(db, b.organ_id, a.organ_id, dt.date.today())
    with pytest.raises(RegistryError, match="not registered"):
        await directory.close(db, b.organ_id, "000.00.00.Z99", dt.date.today())
    with pytest.raises(RegistryError, match="own successor"):
        await directory.close(db, b.organ_id, b.organ_id, dt.date.today())


async def test_a_change_committed_late_is_not_missed(world: World, settings) -> None:
    """A transaction that began before a look and commits after it: the next look finds its
    change (changes are read by transaction horizon, not by id)."""
    platform = await world.system(f"vxp.late.{uuid.uuid4().hex[:6]}")
    pool = await create_pool(settings.database_url, min_size=1, max_size=3)
    try:
        cache = registry_cache.RegistryCache(pool, settings.database_url)
        await cache.start()
        late, early = random_organ_id(), random_organ_id()
        slow = await pool.acquire()
        transaction = slow.transaction()
        await transaction.start()
        await slow.execute(
            "INSERT INTO agency (organ_id, name, system_id) VALUES ($1, 'late', $2)",
            late,
            platform.system_id,
        )
        # another change commits meanwhile, with a higher change id, and is seen
        await pool.execute(
            "INSERT INTO agency (organ_id, name, system_id) VALUES ($1, 'early', $2)",
            early,
            platform.system_id,
        )
        await cache.follow()
        assert cache.snapshot.system_of(early) == platform.system_id
        assert cache.snapshot.system_of(late) is None
        await transaction.commit()
        await pool.release(slow)
        await cache.follow()
        assert cache.snapshot.system_of(late) == platform.system_id
    finally:
        await pool.close()
