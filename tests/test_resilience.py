"""Nothing lost: a hub killed with SIGKILL, RabbitMQ and PostgreSQL restarted mid-stream,
several hub processes at once. The hub runs as a real `lienthong serve` subprocess."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.conftest import random_organ_id
from tests.harness import Agency, World, free_port, parse_receipt
from tests.resilience import HubProcess, Stream, collect

pytestmark = pytest.mark.slow


async def setup(
    world: World, documents: int
) -> tuple[list[Agency], list[Agency], Stream, dict[str, set[bytes]]]:
    senders = [await world.agency(random_organ_id()) for _ in range(2)]
    recipients = [await world.agency(random_organ_id()) for _ in range(2)]
    plan = []
    expected: dict[str, set[bytes]] = {r.organ_id: set() for r in recipients}
    for number in range(documents):
        sender = senders[number % 2]
        to = recipients if number % 3 else recipients[:1]
        body = world.document(sender, to, attachments=[])
        plan.append((sender, body, f"s-{number}-{uuid.uuid4().hex[:6]}"))
        for r in to:
            expected[r.organ_id].add(body)
    return senders, recipients, Stream(world=world, plan=plan), expected


def check_delivery(got, expected, senders, stream) -> None:
    for organ, bodies in expected.items():
        edocs = [m for m in got[organ] if m.type == "edoc"]
        assert {m.body for m in edocs} == bodies, (
            f"{organ} misses {len(bodies - {m.body for m in edocs})}"
        )
        # duplicates only as redeliveries of one message_id, which consumers drop
        by_id: dict[str, set[bytes]] = {}
        for m in edocs:
            by_id.setdefault(m.message_id, set()).add(m.body)
        assert all(len(v) == 1 for v in by_id.values())
        assert len(by_id) == len(bodies)
    receipts = {}
    for sender in senders:
        for m in got[sender.organ_id]:
            if m.type == "receipt":
                r = parse_receipt(m.body)
                receipts[r.message_id] = r
    assert set(stream.sent) <= set(receipts), (
        f"a submission got no receipt: {len(receipts)} receipts, "
        f"{ {s.organ_id: Counter(m.type for m in got[s.organ_id]) for s in senders} }"
    )
    assert {r.outcome for r in receipts.values()} == {"accepted"}


async def test_a_hub_killed_with_sigkill_loses_nothing(world: World, env, tmp_path: Path) -> None:
    senders, recipients, stream, expected = await setup(world, 240)
    hub = HubProcess(env={**env, "LIENTHONG_HTTP": "127.0.0.1:0"}, log=tmp_path / "hub.log")
    hub.start()
    await hub.started()
    streaming = asyncio.create_task(stream.run())
    try:
        for quarter in (1, 2, 3):
            # kill at a quarter, half and three quarters of the stream, a little off the beat
            while len(stream.sent) < quarter * len(stream.plan) // 4 + random.randint(0, 10):
                await asyncio.sleep(0.02)
            hub.kill()
            await asyncio.sleep(0.3)
            hub.start()
        assert not streaming.done(), "the hub was not killed mid-stream"
        await streaming
        got = await collect(
            world, senders + recipients, expected, receipts=stream.receipts_by_sender(), timeout=90
        )
    finally:
        hub.stop()
    check_delivery(got, expected, senders, stream)
    assert hub.starts == 4


async def test_rabbitmq_restart_mid_stream_delays_but_loses_nothing(
    world: World, env, tmp_path: Path
) -> None:
    senders, recipients, stream, expected = await setup(world, 150)
    hub = HubProcess(env={**env, "LIENTHONG_HTTP": "127.0.0.1:0"}, log=tmp_path / "hub.log")
    hub.start()
    await hub.started()
    streaming = asyncio.create_task(stream.run())
    try:
        while len(stream.sent) < len(stream.plan) // 3:
            await asyncio.sleep(0.02)
        sent_at_stop = len(stream.sent)
        await asyncio.to_thread(subprocess.run, ["rabbitmqctl", "-q", "stop_app"], check=True)
        await asyncio.sleep(2)
        await asyncio.to_thread(subprocess.run, ["rabbitmqctl", "-q", "start_app"], check=True)
        await asyncio.to_thread(subprocess.run, ["rabbitmqctl", "-q", "await_startup"], check=True)
        await streaming
        got = await collect(
            world, senders + recipients, expected, receipts=stream.receipts_by_sender(), timeout=120
        )
    finally:
        hub.stop()
        subprocess.run(["rabbitmqctl", "-q", "start_app"], check=False)
    check_delivery(got, expected, senders, stream)
    assert 0 < sent_at_stop < len(stream.plan), "the broker was not restarted mid-stream"


async def test_postgresql_restart_mid_stream_delays_but_loses_nothing(
    world: World, env, tmp_path: Path
) -> None:
    senders, recipients, stream, expected = await setup(world, 150)
    hub = HubProcess(env={**env, "LIENTHONG_HTTP": "127.0.0.1:0"}, log=tmp_path / "hub.log")
    hub.start()
    await hub.started()
    streaming = asyncio.create_task(stream.run())
    version = sorted(Path("/etc/postgresql").iterdir())[-1].name
    try:
        while len(stream.sent) < len(stream.plan) // 3:
            await asyncio.sleep(0.02)
        sent_at_restart = len(stream.sent)
        await asyncio.to_thread(
            subprocess.run,
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
            check=True,
        )
        await streaming
        got = await collect(
            world, senders + recipients, expected, receipts=stream.receipts_by_sender(), timeout=120
        )
    finally:
        hub.stop()
    check_delivery(got, expected, senders, stream)
    assert 0 < sent_at_restart < len(stream.plan), "PostgreSQL was not restarted mid-stream"
    assert "database_retry" in hub.log.read_text(), "the hub never felt the restart"


async def test_several_hub_processes_share_the_work_without_double_delivery(
    world: World, env, tmp_path: Path
) -> None:
    senders, recipients, stream, expected = await setup(world, 300)
    stream.pause = 0
    # eight at once: one at a time, ingress is always quiet and the process that reads it
    # handles every document itself (hub/route/triage.py), which is right but shares nothing
    stream.publishers = 8
    port = free_port()
    hubs = [
        HubProcess(
            env={**env, "LIENTHONG_HTTP": f"127.0.0.1:{port}"},
            log=tmp_path / "hub-a.log",
            args=("--workers", "2"),
        ),
        HubProcess(env={**env, "LIENTHONG_HTTP": "127.0.0.1:0"}, log=tmp_path / "hub-b.log"),
    ]
    for hub in hubs:
        hub.start()
    await hubs[0].started(processes=2)  # both of hub-a's processes consume before the stream
    await hubs[1].started()
    try:
        await stream.run()
        got = await collect(
            world, senders + recipients, expected, receipts=stream.receipts_by_sender(), timeout=90
        )
        async with httpx.AsyncClient() as client:
            exposed = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    finally:
        for hub in hubs:
            hub.stop()
    check_delivery(got, expected, senders, stream)
    for organ in expected:
        counts = Counter(m.message_id for m in got[organ] if m.type == "edoc")
        assert max(counts.values()) == 1, "a package was delivered twice"
    workers: Counter[int] = Counter()
    decided = 0  # by the hub with two worker processes (hub-a), replays not counted
    pids_a: set[int] = set()
    for hub in hubs:
        for line in hub.log.read_text().splitlines():
            if not (line.startswith("{") and '"package_' in line):
                continue
            event = json.loads(line)
            if event["event"] == "package_accepted":
                workers[event["pid"]] += 1
            if hub is hubs[0] and event["event"] in ("package_accepted", "package_rejected"):
                pids_a.add(event["pid"])
                decided += 0 if event["replay"] else 1
    assert len(workers) >= 2, f"one process did all the work: {workers}"
    # /metrics of the hub with two worker processes counts both, not the serving one's alone
    assert len(pids_a) == 2, f"hub-a's processes did not both work: {pids_a}"
    shown = sum(
        float(line.rsplit(" ", 1)[1])
        for line in exposed.splitlines()
        if line.startswith("lienthong_packages_total{")
    )
    assert shown == decided > 0
