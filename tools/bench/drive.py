"""Drive signed packages through a real hub (``lienthong serve --workers N``) and measure."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aio_pika
from cryptography import x509

from adapters.sdk import Attachment, DocumentSpec, Organization, build_document
from adapters.sdk.config import EndpointConfig
from adapters.sdk.endpoint import Endpoint
from adapters.sdk.items import Document
from hub.check.signing import sign_package
from hub.registry import pki


@dataclass
class Party:
    organ_id: str
    amqp_url: str
    key: pki.PrivateKey
    cert: x509.Certificate
    config: EndpointConfig


def package(sender: Party, recipients: Sequence[Party], attachment: bytes) -> tuple[str, bytes]:
    document_id = f"{sender.organ_id},bench,{uuid.uuid4().hex}"
    spec = DocumentSpec(
        sender=Organization(organ_id=sender.organ_id, name="bench sender"),
        recipients=[Organization(organ_id=r.organ_id) for r in recipients],
        document_id=document_id,
        subject="Bench",
        attachments=[
            Attachment(name="a.bin", content=attachment, content_type="application/octet-stream")
        ],
    )
    return document_id, sign_package(build_document(spec), sender.key, sender.cert)


def one_to_one(
    senders: Sequence[Party],
    recipients: Sequence[Party],
    count: int,
    attachment: bytes,
    advance: Callable[[], None] = lambda: None,
) -> list[tuple[Party, str, bytes]]:
    """``count`` signed packages, each from the next sender to the next recipient."""
    work = []
    for index in range(count):
        sender = senders[index % len(senders)]
        document_id, body = package(sender, [recipients[index % len(recipients)]], attachment)
        work.append((sender, document_id, body))
        advance()
    return work


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass
class Run:
    """What one traffic run saw."""

    sent: int = 0
    receipts: dict[str, float] = field(default_factory=dict)
    delivered: dict[tuple[str, str], float] = field(default_factory=dict)
    send_times: dict[str, float] = field(default_factory=dict)
    rejected: int = 0
    started: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    """Processor seconds each party used during the run (:mod:`tools.bench.cpu`)."""

    def latencies(self) -> list[float]:
        return [
            at - self.send_times[doc]
            for (doc, _), at in self.delivered.items()
            if doc in self.send_times
        ]


async def consume(parties: Sequence[Party], run: Run, stop: asyncio.Event) -> None:
    """Deduplicating SDK consumers, one per recipient."""

    async def one(party: Party) -> None:
        async with Endpoint.open(party.config) as endpoint:
            while not stop.is_set():
                async for item in endpoint.inbox(idle_timeout=0.5):
                    if isinstance(item, Document):
                        run.delivered.setdefault(
                            (item.document_id, party.organ_id), time.perf_counter()
                        )
                    if stop.is_set():
                        break

    await asyncio.gather(*(one(p) for p in parties))


async def publish(
    senders: Sequence[Party],
    work: Sequence[tuple[Party, str, bytes]],
    run: Run,
    *,
    rate: float | None = None,
    in_flight: int = 128,
    progress: Callable[[int], None] = lambda _: None,
) -> None:
    """Publish every package (as fast as confirms allow, or at ``rate`` per second)."""
    connections = {s.organ_id: await aio_pika.connect(s.amqp_url) for s in senders}
    channels = {o: await c.channel(publisher_confirms=True) for o, c in connections.items()}
    exchanges = {
        o: await ch.get_exchange("lienthong.submit", ensure=False) for o, ch in channels.items()
    }
    slots = asyncio.Semaphore(in_flight)
    pending: set[asyncio.Task[None]] = set()

    async def one(sender: Party, document_id: str, body: bytes) -> None:
        try:
            run.send_times[document_id] = time.perf_counter()
            await exchanges[sender.organ_id].publish(
                aio_pika.Message(
                    body, message_id=document_id, user_id=sender.organ_id, delivery_mode=2
                ),
                routing_key="edoc",
            )
            run.sent += 1
            progress(1)
        finally:
            slots.release()

    start = time.perf_counter()
    for index, (sender, document_id, body) in enumerate(work):
        if rate is not None:
            wait = start + index / rate - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
        await slots.acquire()
        task = asyncio.create_task(one(sender, document_id, body))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)
    for connection in connections.values():
        await connection.close()


async def collect_receipts(senders: Sequence[Party], run: Run, stop: asyncio.Event) -> None:
    async def one(party: Party) -> None:
        connection = await aio_pika.connect(party.amqp_url)
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=512)
        queue = await channel.get_queue(f"lienthong.inbox.{party.organ_id}", ensure=False)
        async with queue.iterator() as messages:
            async for message in messages:
                await message.ack()
                if message.type == "receipt":
                    document_id = str((message.headers or {}).get("x-document-id", ""))
                    if b"<Outcome>rejected" in message.body:
                        run.rejected += 1
                    run.receipts.setdefault(document_id, time.perf_counter())
                if stop.is_set():
                    break
        await connection.close()

    tasks = [asyncio.create_task(one(p)) for p in senders]
    await stop.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def traffic(
    senders: Sequence[Party],
    recipients: Sequence[Party],
    work: Sequence[tuple[Party, str, bytes]],
    *,
    fan_out: int,
    rate: float | None = None,
    timeout: float = 600,
    progress: Callable[[int], None] = lambda _: None,
) -> Run:
    run = Run()
    stop = asyncio.Event()
    consumers = asyncio.create_task(consume(recipients, run, stop))
    receipts = asyncio.create_task(collect_receipts(senders, run, stop))
    await asyncio.sleep(1.0)
    run.started = time.perf_counter()
    await publish(senders, work, run, rate=rate, progress=progress)
    deadline = time.perf_counter() + timeout
    wanted = len(work) * fan_out
    while time.perf_counter() < deadline and (
        len(run.delivered) < wanted or len(run.receipts) < len(work)
    ):
        await asyncio.sleep(0.1)
    stop.set()
    await asyncio.gather(consumers, receipts, return_exceptions=True)
    return run


# --- the hub under test -------------------------------------------------------------------


def _hub_pids(pid: int) -> list[int]:
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    return pids


def hub_memory(pid: int) -> tuple[int, int]:
    """(current RSS, peak RSS) in bytes, summed over the hub process and its children."""
    rss = peak = 0
    for each in _hub_pids(pid):
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss += int(line.split()[1]) * 1024
            elif line.startswith("VmHWM:"):
                peak += int(line.split()[1]) * 1024
    return rss, peak


def reset_peaks(pid: int) -> bool:
    """Start the hub's processes' peak RSS afresh (``/proc/PID/clear_refs``), so a phase's peak
    is its own and not an earlier phase's; False where the kernel does not allow it."""
    done = True
    for each in _hub_pids(pid):
        try:
            Path(f"/proc/{each}/clear_refs").write_text("5")
        except OSError:
            done = False
    return done


def start_hub(env: dict[str, str], workers: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "serve", "--workers", str(workers)],
            env={**os.environ, **env},
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
