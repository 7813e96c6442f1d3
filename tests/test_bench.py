"""A tiny run of `make bench`, so it cannot rot. It asserts that it works, never how fast."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import asyncpg
from rich.console import Console

from hub.broker.management import Management
from hub.db.connection import with_database
from tests.conftest import SERVER_URL
from tools.bench import cpu, report
from tools.bench.run import BenchOptions, run_bench


async def test_bench_smoke_run(settings, tmp_path) -> None:
    options = BenchOptions.smoke(tmp_path / "bench")
    console = Console(record=True, width=140)
    try:
        result = await run_bench(settings, options, console)
    finally:
        for suffix in ("_bench", "_bench_dir", "_bench_vxp"):
            name = f"{settings.database_name}{suffix}"
            async with Management(settings.amqp) as api:
                await api.delete_vhost(f"{name}-vhost")
            admin = await asyncpg.connect(with_database(SERVER_URL, "postgres"))
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
    report.show(result, console)
    json_path, png_path = report.write(result, options.output)
    saved = json.loads(json_path.read_text())
    assert saved["small_1"]["count"] == options.small
    assert saved["small_1"]["rejected"] == 0
    assert saved["small_1"]["accepted_per_s"] > 0 and saved["small_1"]["delivered_per_s"] > 0
    assert saved["large_1"]["accepted_per_s"] > 0
    assert saved["latency_at_half"]["count"] > 0
    assert saved["huge"]["delivered"] is True
    giant = saved["giant"]  # over 8 MiB: uploaded over HTTP, delivered as a claim check
    assert giant["accepted"] and giant["delivered"] and giant["verified"], giant
    assert len(saved["stages"]) == 5 and saved["hub_over_slowest_stage"] > 0
    assert saved["naive"]["count"] == options.small and saved["naive"]["per_s"] > 0
    assert saved["naive"]["cpu_ms_per_document"] > 0 and saved["hub_over_naive"] > 0
    assert png_path is not None and png_path.read_bytes().startswith(b"\x89PNG")
    spent = saved["small_1"]["cpu_ms_per_document"]
    assert spent["hub"] > 0 and spent["rabbitmq"] > 0 and spent["driver"] > 0
    directory = saved["directory"]
    assert directory["registry_agencies"] >= options.directory.agencies
    assert directory["import_added"] == options.directory.agencies
    assert directory["import_refused"] == 0
    assert directory["registry_certificates"] >= options.directory.agencies
    assert directory["registry_revoked"] == options.directory.revoked
    assert directory["broker_queues"] >= 2 * options.directory.broker_systems
    assert directory["broker_users"] == options.directory.broker_systems
    assert 0 < directory["change_s"] < 30 and directory["small_1"]["rejected"] == 0
    national = saved["national"]
    assert national["gateway"]["accepted"] == options.national.documents
    assert national["vxp_send"]["accepted"] == options.national.documents
    assert national["vxp_count"]["ok"] == options.national.calls
    assert national["vxp_over_gateway"] > 0
    text = console.export_text()
    assert "accepted/s" in text and "hub throughput / slowest stage" in text
    assert "one change reaches a running hub" in text
    assert "/vxp/sendEdoc over the gateway" in text
    assert "CPU ms per document" in text and "ceiling at this cost" in text
    assert "hub / naive pipeline" in text and "hub processor time per document" in text


def test_processor_time_is_told_apart_by_party() -> None:
    """A busy process counts for the 'hub' when its pid is the hub's; this one is the driver."""
    burn = (
        "import sys, time\n"
        "t = time.process_time()\n"
        "while time.process_time() - t < 0.3: pass\n"
        "print('done', flush=True)\n"
        "sys.stdin.read()\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", burn], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as child:
        before = cpu.sample(child.pid)
        deadline = time.process_time() + 0.2
        while time.process_time() < deadline:  # the driver's own work
            pass
        assert child.stdout is not None and child.stdout.readline().strip() == "done"
        after = cpu.sample(child.pid)
        child.kill()
    spent = cpu.spent(before, after)
    assert spent["hub"] >= 0.2
    assert spent["driver"] >= 0.15
    assert report.ceiling({"hub": 4.0, "rabbitmq": 3.0, "postgresql": 1.0, "driver": 2.0}, 2) == 200
