"""The national SDK's endpoint measured beside the HTTP gateway (issue 15): the same signed
packages submitted through ``/vxp/sendEdoc`` (authenticated as the SDK signs) and through
``POST /api/v1/documents`` (a bearer token), each waiting for the hub's decision, by a few
clients at once; then, one call at a time, what an authenticated call costs when it only reads
a count (``countReceiveEdoc``: the SDK's HMAC, the replay guard, the inbox taken off the broker).

Runs an in-process hub with HTTP on a database of its own."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import statistics
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from rich.console import Console
from rich.progress import Progress

from hub import home
from hub.broker.management import Management
from hub.config import Settings
from hub.registry import pki, registry, systems
from hub.server import ServeOptions, run_hub
from hub.session import open_session
from hub.vxp.auth import client_headers
from tools.bench.drive import Party, package, percentile
from tools.bench.isolation import free_port, isolate


@dataclass(frozen=True, kw_only=True, slots=True)
class NationalOptions:
    documents: int = 400
    """Packages per channel."""
    calls: int = 1000
    """countReceiveEdoc calls (authentication alone)."""
    clients: int = 8
    """Requests in flight at once."""


NATIONAL_USERS = ("bench.vxp", "bench.gw.01", "bench.rc.01")
"""The broker users this phase makes (removed afterwards)."""


async def _parties(isolated: Settings) -> tuple[Party, Party, Party, str, str]:
    """A national-SDK system hosting one agency, a gateway agency, one recipient."""
    made = home.init_dev_ca(isolated)
    async with open_session(isolated) as session:
        await registry.trust_ca(session.db, made.ca.cert, source="development")
        async with session.db.transaction():
            national = await systems.add_system(
                session.db,
                session.management,
                session.channel,
                isolated,
                system_id="bench.vxp",
                name="bench national-SDK system",
            )
        made_parties = []
        for organ, host in (
            ("bench.vxp.01", national.system_id),
            ("bench.gw.01", None),
            ("bench.rc.01", None),
        ):
            credentials = await registry.add_agency(
                session.db,
                session.management,
                session.channel,
                isolated,
                registry.AgencyRequest(
                    organ_id=organ, name=f"bench {organ}", issue=True, legacy=True, system=host
                ),
            )
            assert credentials.key_path and credentials.cert_path
            made_parties.append(
                (
                    Party(
                        organ_id=organ,
                        amqp_url="",
                        key=pki.load_private_key(credentials.key_path.read_bytes()),
                        cert=x509.load_pem_x509_certificate(credentials.cert_path.read_bytes()),
                        config=None,  # type: ignore[arg-type]
                    ),
                    credentials.http_token,
                )
            )
    (sender, _), (gateway, token), (recipient, _) = made_parties
    return sender, gateway, recipient, national.vxp_secret, token or ""


def _figures(latencies: list[float], seconds: float) -> dict[str, float]:
    return {
        "per_s": len(latencies) / seconds if seconds else float("nan"),
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "mean_ms": statistics.mean(latencies) * 1000,
    }


async def _drive(
    count: int, clients: int, one: Any, progress: Progress, label: str
) -> tuple[dict[str, float], list[Any]]:
    task = progress.add_task(label, total=count)
    latencies: list[float] = []
    answers: list[Any] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(count):
        queue.put_nowait(index)

    async def client() -> None:
        while not queue.empty():
            index = queue.get_nowait()
            started = time.perf_counter()
            answers.append(await one(index))
            latencies.append(time.perf_counter() - started)
            progress.advance(task)

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return _figures(latencies, time.perf_counter() - began), answers


async def run_national(
    isolated: Settings, options: NationalOptions, progress: Progress
) -> dict[str, Any]:
    sender, gateway, recipient, secret, token = await _parties(isolated)
    port = free_port()
    settings = replace(isolated, http_host="127.0.0.1", http_port=port)
    stop = asyncio.Event()
    hub = asyncio.create_task(run_hub(settings, ServeOptions(http=True, concurrency=64), stop))
    attachment = os.urandom(2 * 1024)
    task = progress.add_task("signing packages for both channels", total=2 * options.documents)
    through_vxp, through_gateway = [], []
    for _ in range(options.documents):
        through_vxp.append(package(sender, [recipient], attachment)[1])
        through_gateway.append(package(gateway, [recipient], attachment)[1])
        progress.advance(task, 2)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            for _ in range(200):
                if hub.done():
                    hub.result()
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)

            async def via_gateway(index: int) -> bool:
                answer = await http.post(
                    "/api/v1/documents",
                    content=through_gateway[index],
                    headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"g{index}"},
                )
                return b"<Outcome>accepted" in answer.content

            async def via_vxp(index: int) -> bool:
                body = through_vxp[index]
                headers = client_headers(
                    system_id="bench.vxp",
                    secret=secret,
                    values={"from": sender.organ_id, "servicetype": "eDoc", "messagetype": "edoc"},
                    body=body,
                    when=dt.datetime.now(),
                )
                answer = await http.post("/vxp/sendEdoc", content=body + b"\r\n", headers=headers)
                return bool(answer.json().get("status") == "OK")

            async def count_call(index: int) -> bool:
                headers = client_headers(
                    system_id="bench.vxp",
                    secret=secret,
                    values={"call": str(index)},
                    when=dt.datetime.now(),
                )
                answer = await http.post("/vxp/countReceiveEdoc", headers=headers)
                return bool(answer.json().get("status") == "OK")

            gateway_figures, gateway_ok = await _drive(
                options.documents, options.clients, via_gateway, progress, "gateway: documents"
            )
            vxp_figures, vxp_ok = await _drive(
                options.documents, options.clients, via_vxp, progress, "national SDK: sendEdoc"
            )
            count_figures, count_ok = await _drive(
                options.calls, 1, count_call, progress, "national SDK: countReceiveEdoc, one client"
            )
    finally:
        stop.set()
        await asyncio.wait_for(hub, 60)
    return {
        "documents": options.documents,
        "clients": options.clients,
        "gateway": {**gateway_figures, "accepted": sum(gateway_ok)},
        "vxp_send": {**vxp_figures, "accepted": sum(vxp_ok)},
        "vxp_count": {**count_figures, "ok": sum(count_ok)},
        "vxp_over_gateway": vxp_figures["per_s"] / gateway_figures["per_s"],
    }


async def national_phase(
    settings: Settings, options: NationalOptions, output: Path, console: Console
) -> dict[str, Any]:
    """The national SDK's endpoint beside the gateway, in a database of its own."""
    isolated, _ = await isolate(settings, output, suffix="_bench_vxp")
    try:
        with Progress(console=console, transient=True) as progress:
            return await run_national(isolated, options, progress)
    finally:
        async with Management(settings.amqp) as api:
            for user in NATIONAL_USERS:
                await api.delete_user(user)
