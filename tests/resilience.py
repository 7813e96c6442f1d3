"""Helpers for crash and restart drills: the hub as a real subprocess, a steady stream."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aio_pika

from hub.broker import names
from tests.harness import Agency, World, parse_receipt


def receipt_message_id(xml: bytes) -> str:
    return parse_receipt(xml).message_id


@dataclass
class HubProcess:
    env: dict[str, str]
    log: Path
    args: Sequence[str] = ("--workers", "1")
    """One process unless a test says otherwise (``serve`` runs one per core by default)."""
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        with self.log.open("ab") as handle:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hub.cli", "serve", *self.args],
                env={**os.environ, **self.env},
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def started(self, timeout: float = 30, *, processes: int = 1) -> None:
        """Wait until the hub says it started (before a drill touches the services); with
        ``processes``, until that many of its worker processes have."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            text = self.log.read_text(errors="replace") if self.log.exists() else ""
            if text.count('"hub_started"') >= self.starts * processes:
                return
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"the hub exited: {text[-2000:]}")
            await asyncio.sleep(0.1)
        raise AssertionError("the hub did not start in time")

    def kill(self) -> None:
        """SIGKILL, no chance to clean up (children too)."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class Stream:
    """Publishes signed documents one after another, retrying (same message_id) until confirmed."""

    world: World
    plan: list[tuple[Agency, bytes, str]]
    pause: float = 0.01
    publishers: int = 1
    """How many publish at once, each a share of the plan in its order (1: one at a time)."""
    sent: list[str] = field(default_factory=list)
    retries: int = 0

    async def run(self) -> None:
        shares = [self.plan[at :: self.publishers] for at in range(self.publishers)]
        await asyncio.gather(*(self._run(share) for share in shares))

    async def _run(self, plan: list[tuple[Agency, bytes, str]]) -> None:
        for agency, body, message_id in plan:
            while True:
                try:
                    await asyncio.wait_for(self._publish(agency, body, message_id), 10)
                    break
                except (
                    aio_pika.exceptions.AMQPError,
                    ConnectionError,
                    OSError,
                    TimeoutError,
                    RuntimeError,
                ):
                    self.retries += 1
                    await asyncio.sleep(0.5)
            self.sent.append(message_id)
            await asyncio.sleep(self.pause)

    def receipts_by_sender(self) -> dict[str, set[str]]:
        wanted: dict[str, set[str]] = {}
        for agency, _, message_id in self.plan:
            wanted.setdefault(agency.organ_id, set()).add(message_id)
        return wanted

    async def _publish(self, agency: Agency, body: bytes, message_id: str) -> None:
        connection = await self.world.connect(agency)
        channel = await connection.channel(publisher_confirms=True)
        try:
            exchange = await channel.get_exchange(names.SUBMIT_EXCHANGE, ensure=False)
            await exchange.publish(
                aio_pika.Message(
                    body,
                    message_id=message_id,
                    user_id=agency.organ_id,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key="edoc",
            )
        finally:
            with contextlib.suppress(Exception):
                await channel.close()


async def collect(
    world: World,
    agencies: Sequence[Agency],
    expected: dict[str, set[bytes]],
    *,
    receipts: dict[str, set[str]] | None = None,
    timeout: float,
) -> dict[str, list[aio_pika.abc.AbstractIncomingMessage]]:
    """Read the agencies' inboxes until each holds every expected body and every expected
    receipt (by the submission's message_id), or time runs out."""
    got: dict[str, list[aio_pika.abc.AbstractIncomingMessage]] = {a.organ_id: [] for a in agencies}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        for agency in agencies:
            with contextlib.suppress(aio_pika.exceptions.AMQPError, ConnectionError, RuntimeError):
                got[agency.organ_id] += await world.drain(agency, wait=0.2)
        bodies_in = all(
            expected[o] <= {m.body for m in got[o] if m.type == "edoc"} for o in expected
        )
        receipts_in = all(
            wanted <= {receipt_message_id(m.body) for m in got[o] if m.type == "receipt"}
            for o, wanted in (receipts or {}).items()
        )
        if bodies_in and receipts_in:
            break
        await asyncio.sleep(0.5)
    return got
