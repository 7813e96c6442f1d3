"""A world for pipeline tests: agencies with keys from the development CA, a hub running
in-process, and helpers to send packages and read inboxes over the real broker."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import aio_pika
import aiormq
import pytest
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from cryptography import x509
from signxml.verifier import SignatureConfiguration, XMLVerifier

from adapters.sdk import (
    Attachment,
    DocumentSpec,
    Organization,
    StatusSpec,
    build_document,
    build_status,
)
from adapters.sdk.items import Receipt
from hub import home
from hub.broker import names
from hub.check.signing import sign_package
from hub.config import Settings
from hub.registry import pki, registry, systems
from hub.server import ServeOptions, run_hub
from hub.session import Session


@dataclass
class Agency:
    organ_id: str
    credentials: registry.AgencyCredentials
    key: pki.PrivateKey
    cert: x509.Certificate
    connection: AbstractRobustConnection | None = None

    @property
    def org(self) -> Organization:
        return Organization(organ_id=self.organ_id, name=f"agency {self.organ_id}")

    @property
    def system(self) -> str:
        """The system it connects as (version 1: itself)."""
        return self.credentials.system_id


parse_receipt = Receipt.parse
"""The SDK's own receipt parser: tests read receipts as an agency would."""


def verify_receipt(xml: bytes, hub_cert: x509.Certificate) -> None:
    XMLVerifier().verify(
        xml, x509_cert=hub_cert, expect_config=SignatureConfiguration(expect_references=1)
    )


@dataclass
class World:
    session: Session
    settings: Settings
    broker_users: list[str]
    agencies: dict[str, Agency] = field(default_factory=dict)
    kept: dict[str, list[AbstractIncomingMessage]] = field(default_factory=dict)
    """Messages read while waiting for receipts, kept for the test to look at."""

    async def system(self, system_id: str) -> systems.SystemCredentials:
        """A connected system (its broker user is removed after the test)."""
        self.broker_users.append(system_id)
        async with self.session.db.transaction():
            return await systems.add_system(
                self.session.db,
                self.session.management,
                self.session.channel,
                self.settings,
                system_id=system_id,
                name=f"system {system_id}",
            )

    async def agency(
        self, organ_id: str, *, host: systems.SystemCredentials | None = None, **options: Any
    ) -> Agency:
        """An agency with a key and certificate; with ``host``, hosted by that system (and
        connecting with its credentials), else its own system (version 1)."""
        request = registry.AgencyRequest(
            organ_id=organ_id,
            name=f"agency {organ_id}",
            issue=True,
            system=host.system_id if host else None,
            **options,
        )
        if host is None:
            self.broker_users.append(organ_id)
        credentials = await registry.add_agency(
            self.session.db, self.session.management, self.session.channel, self.settings, request
        )
        if host is not None:  # it connects as the system that hosts it
            credentials = replace(
                credentials, amqp_password=host.amqp_password, http_token=host.http_token
            )
        assert credentials.key_path and credentials.cert_path
        agency = Agency(
            organ_id=organ_id,
            credentials=credentials,
            key=pki.load_private_key(credentials.key_path.read_bytes()),
            cert=x509.load_pem_x509_certificate(credentials.cert_path.read_bytes()),
        )
        self.agencies[organ_id] = agency
        return agency

    def document_spec(
        self, sender: Agency, recipients: Sequence[Agency | str], **fields: Any
    ) -> DocumentSpec:
        orgs = [r.org if isinstance(r, Agency) else Organization(organ_id=r) for r in recipients]
        fields.setdefault(
            "document_id", f"{sender.organ_id},{dt.date.today():%Y/%m/%d},{uuid.uuid4().hex[:8]}/CV"
        )
        fields.setdefault("subject", "V/v thử nghiệm liên thông văn bản")
        fields.setdefault(
            "attachments", [Attachment(name="cong-van.pdf", content=b"%PDF-1.4\n" + b"x" * 2000)]
        )
        return DocumentSpec(sender=sender.org, recipients=orgs, **fields)

    def document(
        self,
        sender: Agency,
        recipients: Sequence[Agency | str],
        *,
        signer: Agency | None = None,
        **fields: Any,
    ) -> bytes:
        signer = signer or sender
        return sign_package(
            build_document(self.document_spec(sender, recipients, **fields)),
            signer.key,
            signer.cert,
        )

    def status(
        self,
        sender: Agency,
        document_sender: str,
        document_id: str,
        code: str,
        *,
        signer: Agency | None = None,
    ) -> bytes:
        signer = signer or sender
        spec = StatusSpec(
            sender=sender.org,
            document_sender=document_sender,
            document_id=document_id,
            status_code=code,
            description=f"status {code}",
            staff="Văn thư",
        )
        return sign_package(build_status(spec), signer.key, signer.cert)

    def url(self, agency: Agency) -> str:
        """The agency's URL on the last broker node named (on a cluster, the node drills leave
        alone: the hubs start on the first)."""
        c = agency.credentials
        node = urlsplit((self.settings.amqp.urls or (self.settings.amqp.url,))[-1])
        where = f"{node.hostname}:{node.port or 5672}"
        return f"amqp://{c.amqp_user}:{c.amqp_password}@{where}/{self.settings.amqp.vhost}"

    async def connect(self, agency: Agency) -> AbstractRobustConnection:
        if agency.connection is None or agency.connection.is_closed:
            agency.connection = await aio_pika.connect_robust(self.url(agency))
        return agency.connection

    async def send(
        self,
        agency: Agency,
        body: bytes,
        *,
        kind: str = "edoc",
        message_id: str | None = None,
        user_id: str | bool | None = True,
        headers: dict[str, Any] | None = None,
    ) -> str:
        message_id = message_id or f"m-{uuid.uuid4().hex}"
        connection = await self.connect(agency)
        channel = await connection.channel(publisher_confirms=True)
        try:
            exchange = await channel.get_exchange(names.SUBMIT_EXCHANGE, ensure=False)
            await exchange.publish(
                aio_pika.Message(
                    body,
                    message_id=message_id,
                    user_id=agency.system if user_id is True else (user_id or None),
                    content_type="application/xml",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    headers=headers,
                ),
                routing_key=kind,
            )
        finally:
            await channel.close()
        return message_id

    async def drain(
        self, agency: Agency, *, urgent: bool | None = None, wait: float = 0.5
    ) -> list[AbstractIncomingMessage]:
        """All in the agency's inboxes (acknowledged), after ``wait`` seconds of quiet."""
        connection = await self.connect(agency)
        channel = await connection.channel()
        queues = []
        if urgent in (None, True):
            queues.append(await channel.get_queue(names.urgent_inbox(agency.system), ensure=False))
        if urgent in (None, False):
            queues.append(await channel.get_queue(names.inbox(agency.system), ensure=False))
        found: list[AbstractIncomingMessage] = []
        quiet_since = asyncio.get_running_loop().time()
        while asyncio.get_running_loop().time() - quiet_since < wait:
            got = False
            for queue in queues:
                message = await queue.get(fail=False)
                if message is not None:
                    await message.ack()
                    found.append(message)
                    got = True
            if got:
                quiet_since = asyncio.get_running_loop().time()
            else:
                await asyncio.sleep(0.05)
        await channel.close()
        return found

    async def receipts(
        self, agency: Agency, message_ids: Sequence[str], *, timeout: float = 30
    ) -> dict[str, Receipt]:
        """Wait for the receipts of these submissions; other messages are kept aside."""
        wanted = set(message_ids)
        found: dict[str, Receipt] = {}
        deadline = asyncio.get_running_loop().time() + timeout
        while wanted - set(found) and asyncio.get_running_loop().time() < deadline:
            for message in await self.drain(agency, wait=0.2):
                if message.type == "receipt":
                    receipt = parse_receipt(message.body)
                    found.setdefault(receipt.message_id, receipt)
                else:
                    self.kept.setdefault(agency.organ_id, []).append(message)
        missing = wanted - set(found)
        assert not missing, f"no receipt within {timeout}s for {sorted(missing)[:5]}"
        return found

    async def close(self) -> None:
        for agency in self.agencies.values():
            if agency.connection is not None:
                with contextlib.suppress(Exception):
                    await agency.connection.close()


async def assert_confined(
    connection: aio_pika.abc.AbstractConnection, *, own: str, other: str, other_user: str
) -> None:
    """Least privilege as the broker enforces it: the user reads its own inbox, neither of
    ``other``'s two inboxes, and cannot publish with ``other_user`` as its user_id."""
    channel = await connection.channel()
    queue = await channel.get_queue(names.inbox(own), ensure=False)
    assert await queue.get(fail=False) is None
    for queue_name in (names.inbox(other), names.urgent_inbox(other)):
        channel = await connection.channel()
        queue = await channel.get_queue(queue_name, ensure=False)
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
            await queue.get(fail=False)
    channel = await connection.channel(publisher_confirms=True)
    submit = await channel.get_exchange(names.SUBMIT_EXCHANGE, ensure=False)
    with pytest.raises(aiormq.exceptions.ChannelPreconditionFailed):
        await submit.publish(
            aio_pika.Message(b"<edXML/>", user_id=other_user, message_id="as-another"),
            routing_key="edoc",
        )
        await channel.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def running_hub(
    settings: Settings, *, concurrency: int = 16, http: bool = False
) -> AsyncIterator[str]:
    """Run the hub in this event loop; yields its base URL (``""`` without HTTP)."""
    base = ""
    if http:
        port = free_port()
        settings = replace(settings, http_host="127.0.0.1", http_port=port)
        base = f"http://127.0.0.1:{port}"
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_hub(settings, ServeOptions(http=http, concurrency=concurrency), stop)
    )
    await asyncio.sleep(0.5)
    if task.done():
        task.result()
    try:
        yield base
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


def with_limit(settings: Settings, max_bytes: int) -> Settings:
    return replace(settings, max_package_bytes=max_bytes)


def init_home(settings: Settings) -> home.CaInit:
    return home.init_dev_ca(settings)


def lienthong(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run the command line as an operator does: another process, this test's environment."""
    return subprocess.run(
        [sys.executable, "-m", "tools.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
