"""The bench's cluster phase (`lienthong bench --cluster`, issue 17): the small-document run and
the latency at half of it again, on a local three-node RabbitMQ cluster (quorum queues with
three replicas) and a PostgreSQL primary with a synchronous standby (scripts/cluster.sh), beside
the single node's figures of the same run. The cluster is made for the phase and removed."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress

from hub import config
from hub.broker.management import Management
from hub.db.connection import with_database
from hub.db.migrate import migrate
from tools.bench.drive import one_to_one, start_hub, traffic
from tools.bench.parties import (
    latency_figures,
    rates,
    register,
    small_run,
    stop_hub,
    wait_ready,
)

CLUSTER = Path(__file__).resolve().parents[2] / "scripts" / "cluster.sh"


@dataclass(frozen=True, kw_only=True, slots=True)
class ClusterOptions:
    documents: int = 1500
    latency_seconds: float = 10.0


def cluster(command: str) -> str:
    ran = subprocess.run(["bash", str(CLUSTER), command], capture_output=True, text=True)
    if ran.returncode != 0:
        raise RuntimeError(f"scripts/cluster.sh {command}: {ran.stderr.strip()[-300:]}")
    return ran.stdout


async def cluster_phase(
    options: ClusterOptions, workers: int, output: Path, console: Console
) -> dict[str, Any]:
    cluster("down")
    made = dict(line.split("=", 1) for line in cluster("up").splitlines() if "=" in line)
    try:
        vhost = "bench-cluster"
        env = {
            "LIENTHONG_AMQP_URL": ",".join(
                u.rstrip("/") + "/" + vhost for u in made["LIENTHONG_AMQP_URL"].split(",")
            ),
            "LIENTHONG_AMQP_MANAGEMENT_URL": made["LIENTHONG_AMQP_MANAGEMENT_URL"],
            "LIENTHONG_DATABASE_URL": with_database(
                made["LIENTHONG_DATABASE_URL"], "lienthong_bench_cluster"
            ),
            "LIENTHONG_HOME": str((output / "home_cluster").resolve()),
            "LIENTHONG_HTTP": "127.0.0.1:0",
        }
        isolated = config.load(env)
        async with Management(isolated.amqp) as api:
            await api.put_vhost(vhost)
            await api.put_permissions(
                vhost, isolated.amqp.user, {"configure": ".*", "write": ".*", "read": ".*"}
            )
        await migrate(isolated.database_url)
        senders = await register(isolated, 4, "bench.s")
        recipients = await register(isolated, 5, "bench.r")
        log = output / "hub-cluster.log"
        log.unlink(missing_ok=True)
        started = time.perf_counter()
        hub = start_hub(env, workers, log)
        try:
            await wait_ready(log, started, workers)
            small = os.urandom(4096)
            with Progress(console=console, transient=True) as progress:
                work, run = await small_run(
                    senders,
                    recipients,
                    options.documents,
                    small,
                    progress,
                    "small, 1 recipient, on the cluster",
                )
                figures: dict[str, Any] = {"small_1": {**rates(run, 1), "count": len(work)}}
                target = max(1.0, figures["small_1"]["accepted_per_s"] / 2)
                count = int(target * options.latency_seconds)
                paced = one_to_one(senders, recipients, count, small)
                task = progress.add_task(f"cluster at {target:.0f}/s", total=len(paced))
                slow = await traffic(
                    senders,
                    recipients,
                    paced,
                    fan_out=1,
                    rate=target,
                    progress=lambda n: progress.advance(task, n),
                )
            figures["latency_at_half"] = latency_figures(slow, target)
            return figures
        finally:
            stop_hub(hub)
    finally:
        cluster("down")
