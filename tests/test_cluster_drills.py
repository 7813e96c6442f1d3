"""The drills on a cluster (issue 17): `make drill` brings up three RabbitMQ nodes and a
PostgreSQL primary with a synchronous standby (scripts/cluster.sh), then runs these. Two hubs
take a steady stream from two agencies while (1) the RabbitMQ node the hubs are connected to is
killed with SIGKILL and later restarted, (2) a second node is stopped so only a majority
remains, (3) one hub is killed for good, (4) the PostgreSQL primary is stopped and the standby
promoted (last: it leaves the cluster with a new primary). After each: every document
delivered once per recipient (after dedupe by message_id), every submission has its receipt,
`lienthong audit verify` finds the chains intact; the time until documents are accepted again
is printed.

Skipped in `make test` (the single-node services of ../shared/services.md): set
LIENTHONG_DRILLS=1 with the cluster up, as `make drill` does."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from hub import config
from hub.broker.management import Management
from hub.config import Settings
from hub.db.connection import with_database
from hub.db.migrate import migrate
from tests.harness import World, lienthong
from tests.resilience import HubProcess, collect
from tests.test_resilience import check_delivery, setup

ROOT = Path(__file__).resolve().parents[1]
CLUSTER = ROOT / "scripts" / "cluster.sh"
STATE = Path(os.environ.get("LIENTHONG_CLUSTER_DIR", "/var/tmp/lienthong-cluster"))

pytestmark = pytest.mark.skipif(
    os.environ.get("LIENTHONG_DRILLS") != "1",
    reason="the cluster drills run with `make drill` (scripts/cluster.sh up, then these)",
)


def cluster_settings() -> dict[str, str]:
    ran = subprocess.run(["bash", str(CLUSTER), "env"], capture_output=True, text=True)
    assert ran.returncode == 0, f"the cluster is not up: {ran.stderr}"
    return dict(line.split("=", 1) for line in ran.stdout.splitlines() if "=" in line)


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    """A vhost and a database of this test's own on the cluster."""
    cluster = cluster_settings()
    vhost = f"lt-drill-{uuid.uuid4().hex[:8]}"
    urls = [u.rstrip("/") + "/" + vhost for u in cluster["LIENTHONG_AMQP_URL"].split(",")]
    database = with_database(cluster["LIENTHONG_DATABASE_URL"], f"lt_drill_{uuid.uuid4().hex[:8]}")
    made = {
        "LIENTHONG_AMQP_URL": ",".join(urls),
        "LIENTHONG_AMQP_MANAGEMENT_URL": cluster["LIENTHONG_AMQP_MANAGEMENT_URL"],
        "LIENTHONG_DATABASE_URL": database,
        "LIENTHONG_HOME": str(tmp_path / "home"),
        "LIENTHONG_HTTP": "127.0.0.1:0",
    }
    amqp = config.load(made).amqp
    async with Management(amqp) as api:
        await api.put_vhost(vhost)
        await api.put_permissions(
            vhost, amqp.user, {"configure": ".*", "write": ".*", "read": ".*"}
        )
    await migrate(database)
    yield made


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return config.load(env)


def hubs_on(env: dict[str, str], tmp_path: Path, name: str) -> list[HubProcess]:
    return [HubProcess(env=env, log=tmp_path / f"{name}-{n}.log") for n in range(2)]


TROUBLE = ("hub_restarting", "database_retry", "broker_unavailable", "submission_failed")


def resumed_after(hubs: list[HubProcess], at: float) -> float | None:
    """Seconds from the break (``at``, time.time()) to the first document a hub accepted after
    the last trouble it logged (a lost connection, a retried statement)."""
    events: list[tuple[float, str]] = []
    for hub in hubs:
        for line in hub.log.read_text(errors="replace").splitlines():
            if not line.startswith("{"):
                continue
            event = json.loads(line)
            stamp = event.get("timestamp")
            if stamp is None:
                continue
            when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
            if when >= at:
                events.append((when, event.get("event", "")))
    events.sort()
    last_trouble = max((w for w, e in events if e in TROUBLE), default=at)
    first = next((w for w, e in events if e == "package_accepted" and w > last_trouble), None)
    return None if first is None else first - at


def running(pid: int) -> bool:
    """A live process, not a zombie left for an init that reaps late (kill -0 answers for one)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


async def drill(
    world: World, env: dict[str, str], tmp_path: Path, name: str, break_it, mend_it
) -> None:
    senders, recipients, stream, expected = await setup(world, 150)
    stream.pause = 0.02
    hubs = hubs_on(env, tmp_path, name)
    for hub in hubs:
        hub.start()
    for hub in hubs:
        await hub.started(timeout=60)
    try:
        runner = asyncio.create_task(stream.run())
        while len(stream.sent) < 50:
            await asyncio.sleep(0.05)
        broken_at = time.time()
        await asyncio.to_thread(break_it, hubs)
        while len(stream.sent) < 100:
            await asyncio.sleep(0.05)
        await asyncio.to_thread(mend_it)
        await runner
        got = await collect(
            world,
            senders + recipients,
            expected,
            receipts=stream.receipts_by_sender(),
            timeout=180,
        )
    finally:
        for hub in hubs:
            hub.stop()
    check_delivery(got, expected, senders, stream)
    verified = lienthong(env, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    took = resumed_after(hubs, broken_at)
    assert took is not None, "no document was accepted after the break"
    print(f"\n{name}: documents accepted again {took:.1f} s after the break")


async def test_the_rabbitmq_node_the_hubs_use_is_killed_and_restarted(
    world: World, env, tmp_path: Path
) -> None:
    pid_file = STATE / "rabbit" / "n1" / "pid"

    def kill_node(hubs: list[HubProcess]) -> None:
        os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)

    def restart_node() -> None:
        ran = subprocess.run(["bash", str(CLUSTER), "up"], capture_output=True, text=True)
        assert ran.returncode == 0, ran.stdout + ran.stderr

    await drill(world, env, tmp_path, "rabbitmq-node-killed", kill_node, restart_node)


async def test_a_second_node_stops_and_a_majority_carries_on(
    world: World, env, tmp_path: Path
) -> None:
    pid = int((STATE / "rabbit" / "n2" / "pid").read_text().strip())

    def stop_node(hubs: list[HubProcess]) -> None:
        os.kill(pid, signal.SIGTERM)  # stopped, not killed: a node an operator takes down

    def restart_node() -> None:
        for _ in range(300):  # until it has finished stopping
            if not running(pid):
                break
            time.sleep(0.1)
        ran = subprocess.run(["bash", str(CLUSTER), "up"], capture_output=True, text=True)
        assert ran.returncode == 0, ran.stdout + ran.stderr

    await drill(world, env, tmp_path, "rabbitmq-minority-down", stop_node, restart_node)


async def test_one_hub_is_killed_for_good(world: World, env, tmp_path: Path) -> None:
    def kill_hub(hubs: list[HubProcess]) -> None:
        hubs[0].kill()  # never started again: the other hub does the rest

    await drill(world, env, tmp_path, "one-hub-killed", kill_hub, lambda: None)


async def test_the_postgresql_primary_is_stopped_and_the_standby_promoted(
    world: World, env, tmp_path: Path
) -> None:
    version = sorted(os.listdir("/etc/postgresql"), key=lambda v: [int(p) for p in v.split(".")])[
        -1
    ]

    def fail_over(hubs: list[HubProcess]) -> None:
        subprocess.run(["pg_ctlcluster", version, "lt_primary", "stop", "-m", "fast"], check=True)
        subprocess.run(["pg_ctlcluster", version, "lt_standby", "promote"], check=True)

    await drill(world, env, tmp_path, "postgresql-failover", fail_over, lambda: None)
    # the records are on the promoted standby now
    db = await asyncpg.connect(env["LIENTHONG_DATABASE_URL"])
    try:
        assert not await db.fetchval("SELECT pg_is_in_recovery()")
        assert await db.fetchval("SELECT count(*) FROM package") >= 150
    finally:
        await db.close()
