"""Each stage of the pipeline alone, on this machine: the limits the hub is measured against."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import aio_pika
import asyncpg

from hub.check import verification
from hub.check.decision import Submission
from hub.check.inspection import inspect
from hub.check.schema import Kind
from hub.check.signature_shape import locate
from hub.check.xmlsafe import parse
from hub.record import receipt


@dataclass(frozen=True, kw_only=True, slots=True)
class StageRate:
    stage: str
    per_second: float
    note: str = ""


def _rate(work: Callable[[], object], seconds: float) -> float:
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        work()
        count += 1
    return count / (time.perf_counter() - start)


def cpu_stages(package: bytes, signer: receipt.HubSigner, seconds: float) -> list[StageRate]:
    from hub.check.schema import validate

    def parse_validate() -> None:
        validate(parse(package, max_bytes=1 << 30), Kind.EDOC)

    signature = locate(inspect(package, Kind.EDOC, max_bytes=1 << 30).tree.getroot())

    def verify() -> None:
        verification.verify(package, signature)

    digest = Submission(submitter="x", message_id="m", kind=Kind.EDOC, body=package).digest
    facts = receipt.ReceiptFacts(
        message_id="bench",
        submitter="000.00.00.G22",
        kind="edoc",
        document_id="d",
        code=None,
        detail="accepted",
        digest=digest,
        timestamp=dt.datetime.now(dt.UTC),
    )

    def sign() -> None:
        receipt.sign(facts, signer)

    return [
        StageRate(stage="lxml parse + schema validate", per_second=_rate(parse_validate, seconds)),
        StageRate(stage="signxml verify", per_second=_rate(verify, seconds)),
        StageRate(stage="receipt build + sign", per_second=_rate(sign, seconds)),
    ]


async def database_stage(url: str, seconds: float, body: bytes) -> StageRate:
    """One INSERT of a package-sized row per transaction, as the hub's record step does at least."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE TEMP TABLE bench_row (id bigserial, key text, body bytea)")
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            async with conn.transaction():
                await conn.execute(
                    "INSERT INTO bench_row (key, body) VALUES ($1, $2)", uuid.uuid4().hex, body
                )
            count += 1
        return StageRate(
            stage="asyncpg insert (one per transaction)",
            per_second=count / (time.perf_counter() - start),
        )
    finally:
        await conn.close()


async def broker_stage(url: str, seconds: float, body: bytes, *, in_flight: int = 64) -> StageRate:
    """Publish with confirms (many in flight) into a quorum queue, and consume with acks."""
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        name = f"lienthong.bench.{uuid.uuid4().hex[:8]}"
        queue = await channel.declare_queue(
            name, durable=True, arguments={"x-queue-type": "quorum"}
        )
        received = 0
        done = asyncio.Event()
        sent = 0

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal received
            await message.ack()
            received += 1
            if received >= sent and stop_sending:
                done.set()

        consumer = await connection.channel()
        await consumer.set_qos(prefetch_count=256)
        await (await consumer.get_queue(name, ensure=False)).consume(on_message)
        stop_sending = False
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            await asyncio.gather(
                *(
                    channel.default_exchange.publish(
                        aio_pika.Message(body, delivery_mode=2), routing_key=name
                    )
                    for _ in range(in_flight)
                )
            )
            sent += in_flight
        stop_sending = True
        if received < sent:
            await asyncio.wait_for(done.wait(), 60)
        elapsed = time.perf_counter() - start
        await queue.delete(if_unused=False, if_empty=False)
        return StageRate(
            stage="aio-pika publish with confirm + consume",
            per_second=sent / elapsed,
            note=f"{in_flight} confirms in flight, quorum queue",
        )
    finally:
        await connection.close()
