"""``Endpoint``: an agency's connection to the hub over AMQP.

    async with Endpoint.open(EndpointConfig.from_credentials("G22.json")) as hub:
        receipt = await hub.send(DocumentSpec(...))          # built, signed, sent
        async for item in hub.inbox():                      # urgent first, no duplicates
            ...                                             # acked when you ask for the next

``inbox()`` acknowledges an item only when the application asks for the next one, so an
exception in the loop body leaves it unacknowledged (the broker delivers it again) — and the
SQLite store of handed-over ids keeps a redelivery of something already handled from reaching
the application twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import aio_pika
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from cryptography import x509

from adapters.sdk import claims, uploads
from adapters.sdk.config import EndpointConfig
from adapters.sdk.items import Document, Item, Receipt
from adapters.sdk.packages import (
    DocumentSpec,
    Organization,
    StatusSpec,
    build_document,
    build_status,
)
from adapters.sdk.reading import item_of, recipient_of, sender_of
from adapters.sdk.seen import SeenStore
from hub import contract
from hub.contract import DS_NS, sign_package

ARRIVED = "01"


class SendTimeout(TimeoutError):
    """No receipt from the hub in time (the submission may still be processed)."""


async def _connect_first(urls: str, name: str) -> AbstractRobustConnection:
    """``urls``: one broker URL, or a cluster's nodes comma-separated — the first that answers
    (aio-pika then reconnects to that node when the connection drops)."""
    failure: Exception | None = None
    for url in (u.strip() for u in urls.split(",") if u.strip()):
        try:
            return await aio_pika.connect_robust(url, client_properties={"connection_name": name})
        except (OSError, aio_pika.exceptions.AMQPError) as exc:
            failure = exc
    raise failure or ValueError("no broker URL given")


@dataclass
class _Signer:
    key: contract.PrivateKey
    cert: x509.Certificate


@dataclass
class Endpoint:
    config: EndpointConfig
    connection: AbstractRobustConnection
    seen: SeenStore
    signer: _Signer | None
    trusted: list[x509.Certificate]
    signers: dict[str, _Signer] = field(default_factory=dict)
    """The hosted agencies' keys (the default agency's is ``signer``)."""
    _held: list[tuple[int, int, AbstractIncomingMessage]] = field(default_factory=list)
    """Messages for another agency than an ``inbox(recipient=…)`` asked for, kept in order."""
    _local: asyncio.PriorityQueue[tuple[int, int, AbstractIncomingMessage]] = field(
        default_factory=asyncio.PriorityQueue
    )
    _waiting: dict[str, asyncio.Future[Receipt]] = field(default_factory=dict)
    _order: itertools.count[int] = field(default_factory=itertools.count)
    _channel: Any = None

    # --- opening and closing ---------------------------------------------------------------

    @classmethod
    async def connect(cls, config: EndpointConfig) -> Endpoint:
        connection = await _connect_first(config.amqp_url, f"lienthong-sdk-{config.system}")

        def load(key_path: Path, cert_path: Path) -> _Signer:
            return _Signer(
                key=contract.load_private_key(key_path.read_bytes()),
                cert=x509.load_pem_x509_certificate(cert_path.read_bytes()),
            )

        signer = None
        if config.key_path is not None and config.cert_path is not None:
            signer = load(config.key_path, config.cert_path)
        signers = {organ: load(*paths) for organ, paths in config.agency_keys.items()}
        trusted = [
            c for p in config.trusted_ca_paths for c in contract.load_certificates(p.read_bytes())
        ]
        endpoint = cls(
            config=config,
            connection=connection,
            seen=SeenStore(config.state_dir / f"{config.system}.seen.sqlite"),
            signer=signer,
            trusted=trusted,
            signers=signers,
        )
        await endpoint._start_consuming()
        return endpoint

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, config: EndpointConfig) -> AsyncIterator[Endpoint]:
        endpoint = await cls.connect(config)
        try:
            yield endpoint
        finally:
            await endpoint.close()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.seen.drain()  # acknowledge what was handled before closing
        with contextlib.suppress(Exception):
            await self.connection.close()
        self.seen.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def _start_consuming(self) -> None:
        self._channel = await self.connection.channel()
        await self._channel.set_qos(prefetch_count=64)
        for rank, name in (
            (0, f"lienthong.inbox.{self.config.system}.urgent"),
            (1, f"lienthong.inbox.{self.config.system}"),
        ):
            queue = await self._channel.get_queue(name, ensure=False)

            async def on_message(message: AbstractIncomingMessage, rank: int = rank) -> None:
                if message.type == "receipt":
                    await self._on_receipt(message)
                else:
                    self._local.put_nowait((rank, next(self._order), message))

            await queue.consume(on_message)

    async def _on_receipt(self, message: AbstractIncomingMessage) -> None:
        receipt = Receipt.parse(message.body)
        waiter = self._waiting.pop(receipt.message_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(receipt)
            self.seen.add(message.message_id or receipt.message_id, message.ack)
            return
        # nobody waits for it: the application sees it in inbox()
        self._local.put_nowait((1, next(self._order), message))

    # --- sending -------------------------------------------------------------------------

    def _sign(self, data: bytes) -> bytes:
        """Sign an unsigned package with its sender's key (From/OrganId: the default agency's
        ``key_path``, or a hosted agency's in ``agency_keys``); a signed one is sent as it is."""
        if DS_NS.encode() in data:
            return data
        # only a system signing for several agencies needs to read whose package it is
        sender = sender_of(data) if self.signers else None
        signer = self._signer_for(sender)
        if signer is None:
            raise ValueError(
                f"the package is not signed and no key is configured for {sender or 'its sender'} "
                "(key_path, or agency_keys for another hosted agency)"
            )
        return sign_package(data, signer.key, signer.cert)

    async def submit(
        self, data: bytes, *, kind: str = "edoc", message_id: str | None = None
    ) -> str:
        """Publish a package (signing it first if it is unsigned); returns its message_id. A
        large one is uploaded over HTTP when ``hub_url`` is set (:mod:`adapters.sdk.uploads`)."""
        message_id = message_id or f"{self.config.system}-{uuid.uuid4().hex}"
        body = self._sign(data)
        if self.config.hub_url is not None and len(body) > self.config.upload_over_bytes:
            await uploads.upload(self.config, body, kind=kind, message_id=message_id)
            return message_id
        channel = await self.connection.channel(publisher_confirms=True)
        try:
            exchange = await channel.get_exchange(contract.SUBMIT_EXCHANGE, ensure=False)
            await exchange.publish(
                aio_pika.Message(
                    body,
                    message_id=message_id,
                    user_id=self.config.system,
                    content_type="application/xml",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=kind,
            )
        finally:
            await channel.close()
        return message_id

    async def send(
        self,
        package: bytes | DocumentSpec | StatusSpec,
        *,
        kind: str | None = None,
        message_id: str | None = None,
        timeout: float | None = None,
    ) -> Receipt:
        """Send and wait for the hub's receipt; raises :class:`SendTimeout` when none comes."""
        if isinstance(package, DocumentSpec):
            data, kind = build_document(package), "edoc"
        elif isinstance(package, StatusSpec):
            data, kind = build_status(package), "status"
        else:
            data, kind = package, kind or "edoc"
        message_id = message_id or f"{self.config.system}-{uuid.uuid4().hex}"
        waiter: asyncio.Future[Receipt] = asyncio.get_running_loop().create_future()
        self._waiting[message_id] = waiter
        try:
            await self.submit(data, kind=kind, message_id=message_id)
            return await asyncio.wait_for(waiter, timeout or self.config.receipt_timeout)
        except TimeoutError as exc:
            raise SendTimeout(
                f"no receipt for {message_id} within {timeout or self.config.receipt_timeout}s"
            ) from exc
        finally:
            self._waiting.pop(message_id, None)

    async def report(
        self,
        document: Document | tuple[str, str],
        code: str,
        *,
        description: str | None = None,
        staff: str | None = None,
        timeout: float | None = None,
        author: str | None = None,
    ) -> Receipt:
        """Send a signed status (01 … 06, 13, 15, 16) about a document, as ``author`` (by
        default the agency the document was for, or the endpoint's own agency)."""
        sender, document_id = (
            (document.sender, document.document_id) if isinstance(document, Document) else document
        )
        if author is None and isinstance(document, Document) and document.recipient:
            author = document.recipient
        spec = StatusSpec(
            sender=Organization(organ_id=author or self.config.organ_id),
            document_sender=sender,
            document_id=document_id,
            status_code=code,
            description=description,
            staff=staff,
        )
        return await self.send(spec, timeout=timeout)

    def _signer_for(self, organ: str | None) -> _Signer | None:
        """The key of a hosted agency (``agency_keys``), else the default agency's; None for
        an agency the endpoint has no key for. ``None`` or "" means the default agency."""
        if organ and organ in self.signers:
            return self.signers[organ]
        return self.signer if organ in (None, "", self.config.organ_id) else None

    def _can_sign(self, organ: str | None) -> bool:
        return self._signer_for(organ) is not None

    # --- receiving -----------------------------------------------------------------------

    async def _next(
        self, recipient: str | None, idle_timeout: float | None
    ) -> tuple[int, AbstractIncomingMessage] | None:
        """The next message (for ``recipient`` only, when given; others are held back for a
        later call, in their order), or None after ``idle_timeout`` seconds of nothing."""
        for index, (rank, _, message) in enumerate(self._held):
            if recipient is None or recipient_of(message) == recipient:
                del self._held[index]
                return rank, message
        while True:
            try:
                entry = await asyncio.wait_for(self._local.get(), idle_timeout)
            except TimeoutError:
                return None
            if recipient is None or recipient_of(entry[2]) == recipient:
                return entry[0], entry[2]
            self._held.append(entry)

    async def inbox(
        self, *, idle_timeout: float | None = None, recipient: str | None = None
    ) -> AsyncIterator[Item]:
        """Documents, statuses and receipts (urgent first), each once, each saying which
        hosted agency it is for (``item.recipient``); with ``recipient``, only that agency's.
        Ends after ``idle_timeout`` seconds with nothing new (never, when ``None``)."""
        while True:
            found = await self._next(recipient, idle_timeout)
            if found is None:
                return
            rank, message = found
            message_id = message.message_id or ""
            if message_id in self.seen:
                with contextlib.suppress(Exception):
                    await message.ack()
                continue
            try:
                body = await claims.body_of(message, self.config.http_token)
            except contract.ClaimError:
                with contextlib.suppress(Exception):
                    await message.nack(requeue=True)  # it stays in the inbox for a later try
                raise
            item = item_of(message, body, urgent=rank == 0, trusted=self.trusted)
            if (
                isinstance(item, Document)
                and self.config.auto_arrived
                and item.business_type in (0, 3)
                and self._can_sign(item.recipient)
            ):
                with contextlib.suppress(SendTimeout):
                    await self.report(item, ARRIVED, description="Đã đến (tự động)")
            try:
                yield item
            except GeneratorExit:
                # the application stopped in the middle of this item: not acknowledged
                with contextlib.suppress(Exception):
                    await message.nack(requeue=True)
                raise
            self.seen.add(message_id, message.ack)  # acknowledged once durably seen
