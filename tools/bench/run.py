"""The benchmark: set up an isolated hub, run the traffic, measure the stages, report."""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from rich.console import Console
from rich.progress import Progress

from hub import home
from hub.broker.management import Management
from hub.config import Settings
from hub.record import receipt
from tools.bench import cpu, naive, stages
from tools.bench.directory import DirectoryOptions, run_directory
from tools.bench.drive import (
    Party,
    Run,
    hub_memory,
    package,
    reset_peaks,
    start_hub,
    traffic,
)
from tools.bench.giant import giant_phase
from tools.bench.isolation import isolate
from tools.bench.national import NationalOptions, national_phase
from tools.bench.parties import (
    latency_figures,
    rates,
    register,
    small_run,
    stop_hub,
    wait_ready,
)

SMALL_ATTACHMENT = 2 * 1024
LARGE_ATTACHMENT = 200 * 1024


@dataclass(frozen=True, kw_only=True, slots=True)
class BenchOptions:
    small: int = 3000
    large: int = 300
    fan_out_docs: int = 1000
    latency_seconds: float = 20.0
    stage_seconds: float = 2.0
    huge_mb: int = 64
    """The large package: this many MiB, just under LIENTHONG_MAX_PACKAGE_BYTES (64 MiB)."""
    giant_mb: int = 512
    """The largest: sent by the SDK over HTTP, delivered as a claim check (0: not tried)."""
    workers: int = 2
    output: Path = Path("bench-results")
    directory: DirectoryOptions = field(default_factory=DirectoryOptions)
    national: NationalOptions = field(default_factory=NationalOptions)
    cluster: bool = False
    """Also the cluster phase (tools/bench/cluster.py)."""

    @classmethod
    def smoke(cls, output: Path) -> BenchOptions:
        return cls(
            small=40,
            large=5,
            fan_out_docs=10,
            latency_seconds=2.0,
            stage_seconds=0.2,
            huge_mb=2,
            giant_mb=12,  # over 8 MiB: uploaded and claimed as the 512 MiB one is
            workers=1,
            output=output,
            directory=DirectoryOptions(agencies=400, systems=3, revoked=100, broker_systems=2),
            national=NationalOptions(documents=10, calls=20, clients=2),
        )


def cpu_figures(run: Run) -> dict[str, dict[str, float]]:
    """Processor time per document (ms) of each party, and the cores each kept busy."""
    if not run.receipts or not run.delivered:
        return {"cpu_ms_per_document": {}, "cores_busy": {}}
    elapsed = max(max(run.delivered.values()), max(run.receipts.values())) - run.started
    return {
        "cpu_ms_per_document": {g: s / len(run.receipts) * 1000 for g, s in run.cpu.items()},
        "cores_busy": {g: s / elapsed for g, s in run.cpu.items()},
    }


def timeline(run: Run) -> list[tuple[float, int]]:
    """Deliveries per second since the start."""
    buckets: dict[int, int] = {}
    for at in run.delivered.values():
        second = int(at - run.started)
        buckets[second] = buckets.get(second, 0) + 1
    return sorted(buckets.items())


async def run_bench(settings: Settings, options: BenchOptions, console: Console) -> dict[str, Any]:
    options.output.mkdir(parents=True, exist_ok=True)
    isolated, env = await isolate(settings, options.output)
    senders = await register(isolated, 4, "bench.s")
    recipients = await register(isolated, 5, "bench.r")
    hub = start_hub(env, options.workers, options.output / "hub.log")
    result: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "options": {k: str(v) for k, v in asdict(options).items()},
    }
    try:
        await asyncio.sleep(3)
        base_rss, _ = hub_memory(hub.pid)
        small = os.urandom(SMALL_ATTACHMENT)
        large = os.urandom(LARGE_ATTACHMENT)
        with Progress(console=console, transient=True) as progress:

            def make(
                count: int, fan_out: int, attachment: bytes, label: str
            ) -> list[tuple[Party, str, bytes]]:
                task = progress.add_task(f"signing {label}", total=count)
                work = []
                for index in range(count):
                    sender = senders[index % len(senders)]
                    to = (
                        recipients[:fan_out]
                        if fan_out > 1
                        else [recipients[index % len(recipients)]]
                    )
                    document_id, body = package(sender, to, attachment)
                    work.append((sender, document_id, body))
                    progress.advance(task)
                return work

            async def drive(
                label: str,
                work: list[tuple[Party, str, bytes]],
                fan_out: int,
                rate: float | None = None,
            ) -> Run:
                task = progress.add_task(label, total=len(work))
                before = cpu.sample(hub.pid)
                run = await traffic(
                    senders,
                    recipients,
                    work,
                    fan_out=fan_out,
                    rate=rate,
                    progress=lambda n: progress.advance(task, n),
                )
                run.cpu = cpu.spent(before, cpu.sample(hub.pid))
                return run

            small_work = make(options.small, 1, small, "small packages")
            size_small = statistics.mean(len(b) for _, _, b in small_work[:50])
            disk_before = await database_bytes(isolated.database_url)
            run_small = await drive("small, 1 recipient, full speed", small_work, 1)
            disk_after = await database_bytes(isolated.database_url)
            result["small_1"] = {
                **rates(run_small, 1),
                **cpu_figures(run_small),
                "count": options.small,
                "package_bytes": size_small,
                "rejected": run_small.rejected,
                # PostgreSQL's growth per document: package, receipt, deliveries, links, indexes
                "database_bytes_per_document": (disk_after - disk_before) / options.small,
            }
            target = max(1.0, result["small_1"]["accepted_per_s"] / 2)
            latency_work = make(int(target * options.latency_seconds), 1, small, "latency packages")
            run_latency = await drive(
                f"small at {target:.0f}/s (half)", latency_work, 1, rate=target
            )
            result["latency_at_half"] = latency_figures(run_latency, target)
            fan_work = make(options.fan_out_docs, 5, small, "small, 5 recipients")
            run_fan = await drive("small, 5 recipients", fan_work, 5)
            result["small_5"] = {
                **rates(run_fan, 5),
                **cpu_figures(run_fan),
                "count": options.fan_out_docs,
            }
            large_work = make(options.large, 1, large, "200 KB packages")
            run_large = await drive("200 KB, 1 recipient", large_work, 1)
            result["large_1"] = {
                **rates(run_large, 1),
                **cpu_figures(run_large),
                "count": options.large,
                "package_bytes": statistics.mean(len(b) for _, _, b in large_work),
            }
            _, peak_so_far = hub_memory(hub.pid)
            peaks_reset = reset_peaks(hub.pid)
            before, _ = hub_memory(hub.pid)
            # base64 makes 4 bytes of 3; 64 KiB for the envelope and the signature
            huge_work = make(
                1,
                1,
                os.urandom((options.huge_mb * 1024 * 1024 - 65536) * 3 // 4),
                f"{options.huge_mb} MiB package",
            )
            run_huge = await drive(f"one {options.huge_mb} MiB package", huge_work, 1)
            _, peak = hub_memory(hub.pid)
            result["huge"] = {
                "package_bytes": len(huge_work[0][2]),
                "delivered": len(run_huge.delivered) == 1,
                "hub_rss_before": before,
                "hub_peak_after": peak,
                "growth_over_size": (peak - before) / len(huge_work[0][2]),
                "peak_of_this_phase": peaks_reset,
            }
        if options.giant_mb:
            console.print(f"[dim]one {options.giant_mb} MiB package through the SDKs…[/]")
            result["giant"] = await giant_phase(
                hub.pid,
                f"http://{env['LIENTHONG_HTTP']}",
                senders[0],
                recipients[0],
                options.giant_mb,
                home.ca_paths(isolated)[1],
            )
        result["hub_memory"] = {
            "rss_at_start": base_rss,
            "peak": max(peak_so_far, hub_memory(hub.pid)[1]),
        }
        identity = home.load_hub_identity(isolated)
        signer = receipt.HubSigner(key=identity.key, cert=identity.cert)
        stage_rates = stages.cpu_stages(small_work[0][2], signer, options.stage_seconds)
        stage_rates.append(
            await stages.database_stage(
                isolated.database_url, options.stage_seconds, small_work[0][2]
            )
        )
        stage_rates.append(
            await stages.broker_stage(isolated.amqp.url, options.stage_seconds, small_work[0][2])
        )
        slowest = min(stage_rates, key=lambda s: s.per_second)
        result["stages"] = [
            {"stage": s.stage, "per_second": s.per_second, "note": s.note} for s in stage_rates
        ]
        result["hub_over_slowest_stage"] = result["small_1"]["accepted_per_s"] / slowest.per_second
        result["series"] = {
            "small_1": timeline(run_small),
            "latency": sorted(
                (at - run_latency.started, (at - run_latency.send_times[doc]) * 1000)
                for (doc, _), at in run_latency.delivered.items()
                if doc in run_latency.send_times
            ),
        }
    finally:
        stop_hub(hub)
    # the yardstick: a naive pipeline on the same packages, the hub stopped
    console.print("[dim]the naive pipeline on the same small packages…[/]")
    result["naive"] = await naive.measure(
        isolated.amqp.url,
        isolated.database_url,
        home.ca_paths(isolated)[1],
        [body for _, _, body in small_work],
        options.output / "naive.log",
    )
    result["hub_over_naive"] = result["small_1"]["accepted_per_s"] / result["naive"]["per_s"]
    result["directory"] = await directory_phase(settings, options, console)
    result["directory"]["throughput_ratio"] = (
        result["directory"]["small_1"]["accepted_per_s"] / result["small_1"]["accepted_per_s"]
        if result["small_1"]["accepted_per_s"]
        else 0.0
    )
    result["national"] = await national_phase(settings, options.national, options.output, console)
    if options.cluster:
        from tools.bench.cluster import ClusterOptions, cluster_phase

        result["cluster"] = await cluster_phase(
            ClusterOptions(), options.workers, options.output, console
        )
    return result


async def database_bytes(url: str) -> int:
    """The database's size on disk (pg_database_size: tables, indexes, TOAST; not the WAL)."""
    db = await asyncpg.connect(url)
    try:
        return int(await db.fetchval("SELECT pg_database_size(current_database())"))
    finally:
        await db.close()


async def directory_phase(
    settings: Settings, options: BenchOptions, console: Console
) -> dict[str, Any]:
    """The national directory in a database of its own, then the small-document run of the
    main phase again with that directory loaded (the hub started afresh on it)."""
    isolated, env = await isolate(settings, options.output, suffix="_bench_dir")
    try:
        with Progress(console=console, transient=True) as progress:
            figures = await run_directory(isolated, options.directory, progress)
            senders = await register(isolated, 4, "bench.s")
            recipients = await register(isolated, 5, "bench.r")
            log = options.output / "hub-directory.log"
            log.unlink(missing_ok=True)  # "ready" is read from this run's log alone
            started = time.perf_counter()
            hub = start_hub(env, options.workers, log)
            try:
                figures["hub_ready_s"] = await wait_ready(log, started, options.workers)
                figures["hub_rss"] = hub_memory(hub.pid)[0]
                small = os.urandom(SMALL_ATTACHMENT)
                work, run = await small_run(
                    senders,
                    recipients,
                    options.small,
                    small,
                    progress,
                    "small, 1 recipient, with the directory",
                )
                figures["small_1"] = {**rates(run, 1), "count": len(work), "rejected": run.rejected}
            finally:
                stop_hub(hub)
    finally:
        async with Management(settings.amqp) as api:
            for user in await api.users():
                if str(user.get("name", "")).startswith("bench.sys."):
                    await api.delete_user(str(user["name"]))
    return figures
