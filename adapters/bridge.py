"""Folder bridge: ``lienthong bridge folder --agency ID --dir D``.

    D/outbox    drop packages here (signed, or unsigned when a key is configured)
    D/sent      accepted ones, each with ``<name>.receipt.xml`` beside it
    D/rejected  refused ones, with their receipt beside them
    D/inbox     what arrives: ``<message_id>.<edoc|status|receipt>.xml``, written atomically;
                for a system hosting several agencies (``--system``), in ``D/inbox/<OrganId>/``,
                the agency each message is for (``x-recipient``)

Restarts lose and duplicate nothing: a file stays in the outbox until its receipt is written,
and its message_id comes from its name and content, so a file sent again after a crash gets
the same receipt and is not delivered twice; incoming messages are acknowledged only after
their file is in place, named by message_id.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import structlog

from adapters.sdk.config import EndpointConfig
from adapters.sdk.endpoint import Endpoint, SendTimeout
from adapters.sdk.items import Document, Receipt, Status

log = structlog.get_logger(__name__)

FOLDERS = ("outbox", "sent", "rejected", "inbox")
STATUS_MARK = b"StatusCode>"


@dataclass(frozen=True, kw_only=True, slots=True)
class BridgeConfig:
    endpoint: EndpointConfig
    root: Path
    poll_seconds: float = 1.0


def write_atomically(path: Path, data: bytes) -> None:
    tmp = path.parent / f".{path.name}.tmp"
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def message_id_for(organ_id: str, name: str, data: bytes) -> str:
    digest = hashlib.sha256(name.encode() + b"\0" + data).hexdigest()[:32]
    return f"{organ_id}-file-{digest}"


def _safe(name: str) -> str:
    """An OrganId as a folder name (OrganIds are [0-9A-Za-z._-]; anything else is replaced)."""
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return cleaned.strip(".") or "_"


def kind_of(data: bytes) -> str:
    return "status" if STATUS_MARK in data[:65536] else "edoc"


def waiting(outbox: Path) -> list[Path]:
    return sorted(
        p
        for p in outbox.iterdir()
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith((".tmp", ".part"))
    )


class FolderBridge:
    def __init__(self, config: BridgeConfig) -> None:
        self.config = config
        for name in FOLDERS:
            (config.root / name).mkdir(parents=True, exist_ok=True)

    def folder(self, name: str) -> Path:
        return self.config.root / name

    async def send_one(self, endpoint: Endpoint, path: Path) -> Receipt | None:
        data = path.read_bytes()
        message_id = message_id_for(self.config.endpoint.system, path.name, data)
        try:
            receipt = await endpoint.send(data, kind=kind_of(data), message_id=message_id)
        except SendTimeout:
            log.warning("bridge_no_receipt_yet", file=path.name, message_id=message_id)
            return None
        except ValueError as exc:  # unsigned and no key
            log.error("bridge_cannot_send", file=path.name, error=str(exc))
            return None
        target = self.folder("sent" if receipt.accepted else "rejected")
        write_atomically(target / f"{path.name}.receipt.xml", receipt.xml)
        os.replace(path, target / path.name)
        log.info("bridge_sent", file=path.name, outcome=receipt.outcome, code=receipt.code)
        return receipt

    async def send_waiting(self, endpoint: Endpoint) -> int:
        sent = 0
        for path in waiting(self.folder("outbox")):
            if await self.send_one(endpoint, path) is not None:
                sent += 1
        return sent

    def write_incoming(self, item: Document | Status | Receipt) -> Path:
        kind = (
            "edoc"
            if isinstance(item, Document)
            else "status"
            if isinstance(item, Status)
            else "receipt"
        )
        body = item.xml if isinstance(item, Receipt) else item.body
        name = item.message_id.replace("/", "_")
        folder = self.folder("inbox")
        config = self.config.endpoint
        if config.system_id not in (None, config.organ_id):
            # a system hosting several agencies: one folder per agency the message is for
            folder = folder / _safe(item.recipient or "_unaddressed")
            folder.mkdir(exist_ok=True)
        path = folder / f"{name}.{kind}.xml"
        if not path.exists():
            write_atomically(path, body)
        return path

    async def receive(self, endpoint: Endpoint, *, idle_timeout: float | None = None) -> int:
        written = 0
        async for item in endpoint.inbox(idle_timeout=idle_timeout):
            self.write_incoming(item)  # acknowledged when the next item is asked for
            written += 1
        return written

    async def run(self, *, once: bool = False) -> None:
        async with Endpoint.open(self.config.endpoint) as endpoint:
            if once:
                await self.send_waiting(endpoint)
                await self.receive(endpoint, idle_timeout=2.0)
                return
            receiving = asyncio.create_task(self.receive(endpoint))
            try:
                while True:
                    await self.send_waiting(endpoint)
                    if receiving.done():
                        receiving.result()
                    await asyncio.sleep(self.config.poll_seconds)
            finally:
                receiving.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await receiving
