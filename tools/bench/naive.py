"""The yardstick (issue 18): a naive pipeline with the hub's own libraries that checks less —
consume → lxml parse → signxml verify (chain to the CA) → one INSERT → publish with a confirm →
ack; no schema, no registry, no receipts, no hash chain, no lanes. ``make bench`` runs it on the
same packages, the same broker and PostgreSQL, in a process of its own, and prints the hub's
throughput over its own: the goal is ≥ 1.0.

Run as ``python -m tools.bench.naive AMQP_URL DATABASE_URL CA_PEM IN_QUEUE OUT_QUEUE``."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
from lxml import etree
from signxml.verifier import XMLVerifier

from tools.bench import cpu

PREFETCH = 64
PUBLISHERS = 4


async def serve(amqp_url: str, database_url: str, ca_pem: str, source: str, sink: str) -> None:
    """The naive pipeline itself, until killed."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    pool = await asyncpg.create_pool(database_url, min_size=4, max_size=8)
    await pool.execute(
        "CREATE TABLE IF NOT EXISTS naive_package (id bigserial PRIMARY KEY, "
        "message_id text UNIQUE, body bytea NOT NULL, received_at timestamptz DEFAULT now())"
    )
    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel(publisher_confirms=True)
    await channel.set_qos(prefetch_count=PREFETCH)

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        root = etree.fromstring(message.body, parser)
        XMLVerifier().verify(root, ca_pem_file=ca_pem)
        await pool.execute(
            "INSERT INTO naive_package (message_id, body) VALUES ($1, $2) "
            "ON CONFLICT (message_id) DO NOTHING",
            message.message_id,
            message.body,
        )
        await channel.default_exchange.publish(
            aio_pika.Message(message.body, message_id=message.message_id, delivery_mode=2),
            routing_key=sink,
        )
        await message.ack()

    queue = await channel.get_queue(source, ensure=False)
    await queue.consume(on_message)
    print("naive pipeline ready", flush=True)
    await asyncio.Future()


async def measure(
    amqp_url: str, database_url: str, ca_pem: Path, bodies: Sequence[bytes], log: Path
) -> dict[str, Any]:
    """The naive pipeline's documents/s and processor time per document on ``bodies``."""
    tag = uuid.uuid4().hex[:8]
    source, sink = f"bench.naive.{tag}.in", f"bench.naive.{tag}.out"
    connection = await aio_pika.connect(amqp_url)
    setup = await connection.channel()
    quorum: dict[str, Any] = {"x-queue-type": "quorum"}
    for name in (source, sink):
        await setup.declare_queue(name, durable=True, arguments=quorum)
    with log.open("ab") as handle:
        command = [sys.executable, "-m", "tools.bench.naive", amqp_url, database_url]
        naive = subprocess.Popen(
            [*command, str(ca_pem), source, sink],
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        for _ in range(300):
            if "ready" in log.read_text(errors="replace") or naive.poll() is not None:
                break
            await asyncio.sleep(0.1)
        if naive.poll() is not None:
            raise RuntimeError(f"the naive pipeline stopped; see {log}")
        done = asyncio.Event()
        arrived = 0

        async def on_out(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal arrived
            await message.ack()
            arrived += 1
            if arrived >= len(bodies):
                done.set()

        reader = await connection.channel()
        await reader.set_qos(prefetch_count=512)
        await (await reader.get_queue(sink, ensure=False)).consume(on_out)
        before = cpu.sample(naive.pid)
        started = time.perf_counter()

        async def publisher(share: Sequence[bytes]) -> None:
            channel = await connection.channel(publisher_confirms=True)
            slots = asyncio.Semaphore(128)

            async def one(body: bytes) -> None:
                try:
                    await channel.default_exchange.publish(
                        aio_pika.Message(body, message_id=uuid.uuid4().hex, delivery_mode=2),
                        routing_key=source,
                    )
                finally:
                    slots.release()

            tasks = []
            for body in share:
                await slots.acquire()
                tasks.append(asyncio.create_task(one(body)))
            await asyncio.gather(*tasks)

        await asyncio.gather(*(publisher(bodies[i::PUBLISHERS]) for i in range(PUBLISHERS)))
        await asyncio.wait_for(done.wait(), 600)
        elapsed = time.perf_counter() - started
        spent = cpu.spent(before, cpu.sample(naive.pid))
        return {
            "count": len(bodies),
            "per_s": len(bodies) / elapsed,
            "cpu_ms_per_document": spent["hub"] / len(bodies) * 1000,
        }
    finally:
        naive.kill()
        naive.wait(timeout=10)
        for name in (source, sink):
            await setup.queue_delete(name)
        await connection.close()
        db = await asyncpg.connect(database_url)
        try:
            await db.execute("DROP TABLE IF EXISTS naive_package")
        finally:
            await db.close()


if __name__ == "__main__":
    asyncio.run(serve(*sys.argv[1:6]))
