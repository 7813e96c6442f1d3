"""A tiny run of `make bench`, so it cannot rot. It asserts that it works, never how fast."""

from __future__ import annotations

import json

import asyncpg
from rich.console import Console

from hub.bench import report
from hub.bench.run import BenchOptions, run_bench
from hub.broker.management import Management
from hub.db.connection import with_database
from tests.conftest import SERVER_URL


async def test_bench_smoke_run(settings, tmp_path) -> None:
    options = BenchOptions.smoke(tmp_path / "bench")
    console = Console(record=True, width=140)
    try:
        result = await run_bench(settings, options, console)
    finally:
        name = f"{settings.database_name}_bench"
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
    assert len(saved["stages"]) == 5 and saved["hub_over_slowest_stage"] > 0
    assert png_path is not None and png_path.read_bytes().startswith(b"\x89PNG")
    text = console.export_text()
    assert "accepted/s" in text and "hub throughput / slowest stage" in text
