"""What the bench's phases share: agencies registered as parties, the rates of a run, and the
hub started and stopped as `lienthong serve` (tools.bench.run, tools.bench.cluster)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from rich.progress import Progress

from adapters.sdk.config import EndpointConfig
from hub import home
from hub.config import Settings
from hub.registry import pki, registry
from hub.session import open_session
from tools.bench.drive import Party, Run, one_to_one, percentile, traffic


async def register(isolated: Settings, count: int, prefix: str) -> list[Party]:
    made = home.init_dev_ca(isolated)
    parties = []
    async with open_session(isolated) as session:
        await registry.trust_ca(session.db, made.ca.cert, source="development")
        for index in range(count):
            organ = f"{prefix}.{index:02d}"
            credentials = await registry.add_agency(
                session.db,
                session.management,
                session.channel,
                isolated,
                registry.AgencyRequest(
                    organ_id=organ, name=f"bench {organ}", issue=True, legacy=True
                ),
            )
            node = urlsplit((isolated.amqp.urls or (isolated.amqp.url,))[-1])  # clients: last node
            url = (
                f"amqp://{credentials.amqp_user}:{credentials.amqp_password}@{node.hostname}:"
                f"{node.port or 5672}/{isolated.amqp.vhost}"
            )
            assert credentials.key_path and credentials.cert_path
            parties.append(
                Party(
                    organ_id=organ,
                    amqp_url=url,
                    key=pki.load_private_key(credentials.key_path.read_bytes()),
                    cert=x509.load_pem_x509_certificate(credentials.cert_path.read_bytes()),
                    config=EndpointConfig(
                        organ_id=organ,
                        amqp_url=url,
                        state_dir=isolated.home / "sdk",
                        auto_arrived=False,
                        http_token=credentials.http_token,  # large packages: claim checks
                    ),
                )
            )
    return parties


async def small_run(
    senders: Sequence[Party],
    recipients: Sequence[Party],
    count: int,
    attachment: bytes,
    progress: Progress,
    label: str,
) -> tuple[list[tuple[Party, str, bytes]], Run]:
    """``count`` packages signed one-to-one, then driven at full speed, one recipient each."""
    task = progress.add_task(f"signing ({label})", total=count)
    work = one_to_one(senders, recipients, count, attachment, lambda: progress.advance(task))
    task = progress.add_task(label, total=len(work))
    run = await traffic(
        senders, recipients, work, fan_out=1, progress=lambda n: progress.advance(task, n)
    )
    return work, run


def rates(run: Run, fan_out: int) -> dict[str, float]:
    if not run.receipts or not run.delivered:
        return {"accepted_per_s": 0.0, "delivered_per_s": 0.0}
    accepted = len(run.receipts) / (max(run.receipts.values()) - run.started)
    delivered = len(run.delivered) / fan_out / (max(run.delivered.values()) - run.started)
    return {"accepted_per_s": accepted, "delivered_per_s": delivered}


def stop_hub(hub: subprocess.Popen[bytes]) -> None:
    os.killpg(hub.pid, signal.SIGTERM)
    try:
        hub.wait(timeout=30)
    except Exception:
        os.killpg(hub.pid, signal.SIGKILL)


async def wait_ready(log: Path, started: float, workers: int, *, timeout: float = 120) -> float:
    """Seconds from starting ``lienthong serve`` until every process logged hub_started."""
    while time.perf_counter() - started < timeout:
        if log.exists() and log.read_text(errors="replace").count("hub_started") >= workers:
            return time.perf_counter() - started
        await asyncio.sleep(0.05)
    return float("nan")


def latency_figures(run: Run, rate: float) -> dict[str, float]:
    """p50/p95/p99 end-to-end latency of a paced run, in ms."""
    latencies = run.latencies()
    return {
        "rate_per_s": rate,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "count": len(latencies),
    }
