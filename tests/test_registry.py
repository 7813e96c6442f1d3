"""The agency registry against the real PostgreSQL and RabbitMQ."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator

import aio_pika
import aiormq
import pytest

from hub import home
from hub.broker import names
from hub.broker.management import Management
from hub.config import Settings
from hub.db import Q
from hub.errors import CertificateRefused, Code, RegistryError
from hub.registry import issuing, pki, registry
from hub.registry.tokens import token_hash
from hub.session import Session, open_session
from tests.harness import assert_confined


@pytest.fixture
async def session(settings: Settings) -> AsyncIterator[Session]:
    made = home.init_dev_ca(settings)
    async with open_session(settings) as opened:
        await registry.trust_ca(opened.db, made.ca.cert, source="development")
        yield opened


async def add(session: Session, organ_id: str, **options: object) -> registry.AgencyCredentials:
    request = registry.AgencyRequest(organ_id=organ_id, name=f"agency {organ_id}", **options)  # type: ignore[arg-type]
    return await registry.add_agency(
        session.db, session.management, session.channel, session.settings, request
    )


def agency_url(settings: Settings, credentials: registry.AgencyCredentials) -> str:
    vhost = settings.amqp.vhost
    return f"amqp://{credentials.amqp_user}:{credentials.amqp_password}@127.0.0.1:5672/{vhost}"


async def test_add_provisions_user_permissions_inboxes_and_certificate(session, organ_ids) -> None:
    organ = organ_ids.new()
    credentials = await add(session, organ, issue=True)
    assert credentials.amqp_user == organ
    assert credentials.http_token.startswith("lt_")
    assert credentials.key_path is not None and credentials.key_path.exists()
    assert oct(credentials.key_path.stat().st_mode & 0o777) == "0o600"
    async with Management(session.settings.amqp) as api:
        user = await api.get_user(organ)
        assert user is not None and user["tags"] in ([], "")
        permissions = await api.get_permissions(session.settings.amqp.vhost, organ)
        assert permissions is not None
        assert permissions["configure"] == "^$"
        for queue in (names.inbox(organ), names.urgent_inbox(organ)):
            info = await api.queue(session.settings.amqp.vhost, queue)
            assert info is not None
            assert info["durable"] and info["arguments"]["x-queue-type"] == "quorum"
    row = await session.db.fetchrow(Q.agency_get, organ)
    assert row["state"] == "active"
    certs = await session.db.fetch(Q.certificate_list_for_agency, organ)
    assert [c["fingerprint"].hex() for c in certs] == [credentials.certificates[0].fingerprint]
    # the token is stored hashed, never in clear
    # (version 2: the token is the agency's own system's, system id = OrganId)
    found = await session.db.fetchrow(Q.system_by_token, token_hash(credentials.http_token))
    assert found["system_id"] == organ
    stored = await session.db.fetchval(
        "SELECT http_token_hash FROM system WHERE system_id = $1", organ
    )
    assert credentials.http_token.encode() not in stored


async def test_agency_a_can_neither_read_b_nor_publish_as_b(session, settings, organ_ids) -> None:
    a = await add(session, organ_ids.new())
    b = await add(session, organ_ids.new())
    connection = await aio_pika.connect(agency_url(settings, a))
    try:
        # A may publish to lienthong.submit as itself
        channel = await connection.channel(publisher_confirms=True)
        submit = await channel.get_exchange(names.SUBMIT_EXCHANGE, ensure=False)
        await submit.publish(
            aio_pika.Message(b"<edXML/>", user_id=a.amqp_user, message_id="m1"), routing_key="edoc"
        )
        # … read its own inbox, neither of B's, and cannot publish with B's user_id
        await assert_confined(connection, own=a.organ_id, other=b.organ_id, other_user=b.amqp_user)

        # A cannot publish straight into an inbox, nor declare anything
        channel = await connection.channel(publisher_confirms=True)
        deliver = await channel.get_exchange(names.DELIVER_EXCHANGE, ensure=False)
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
            await deliver.publish(
                aio_pika.Message(b"x", user_id=a.amqp_user), routing_key=b.organ_id
            )
        channel = await connection.channel()
        with pytest.raises(aiormq.exceptions.ChannelAccessRefused):
            await channel.declare_queue("anything", durable=True)
    finally:
        await connection.close()

    # what A published went to the hub's ingress queue, and only there
    # (a single-active-consumer queue: read by consuming, basic.get is refused)
    ingress = await session.channel.get_queue(names.INGRESS_QUEUE, ensure=False)
    taken = []
    async with ingress.iterator() as messages:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                async for message in messages:
                    await message.ack()
                    taken.append(message)
    assert [(m.user_id, m.message_id) for m in taken] == [(a.amqp_user, "m1")]


async def test_a_certificate_from_an_untrusted_ca_is_refused_and_nothing_is_created(
    session, organ_ids
) -> None:
    other_key, other_ca = issuing.make_ca("not trusted")
    _, cert = issuing.issue(other_key, other_ca, issuing.IssueRequest(common_name="x"))
    organ = organ_ids.new()
    with pytest.raises(CertificateRefused) as caught:
        await add(session, organ, certificates=(pki.pem(cert).encode(),))
    assert caught.value.code is Code.CERT_UNTRUSTED
    assert await session.db.fetchrow(Q.agency_get, organ) is None
    async with Management(session.settings.amqp) as api:
        assert await api.get_user(organ) is None


async def test_trusting_the_ca_lets_its_certificate_in(session, organ_ids) -> None:
    other_key, other_ca = issuing.make_ca("agency's real CA")
    _, cert = issuing.issue(other_key, other_ca, issuing.IssueRequest(common_name="x"))
    await registry.trust_ca(session.db, other_ca, source="operator")
    credentials = await add(session, organ_ids.new(), certificates=(pki.pem(cert).encode(),))
    assert credentials.certificates[0].fingerprint == pki.fingerprint(cert).hex()


async def test_renewal_certificates(session, settings, organ_ids) -> None:
    organ = organ_ids.new()
    await add(session, organ, issue=True)
    ca = home.load_dev_ca(settings)
    future = pki.utcnow() + dt.timedelta(days=20)
    _, renewal = issuing.issue(
        ca.key, ca.cert, issuing.IssueRequest(common_name="n", not_before=future)
    )
    registered, warnings = await registry.add_certificate(
        session.db, organ, pki.pem(renewal).encode()
    )
    assert "not valid until" in warnings[0]
    # registering the same certificate again changes nothing
    again, _ = await registry.add_certificate(session.db, organ, pki.pem(renewal).encode())
    assert again == registered
    assert len(await session.db.fetch(Q.certificate_list_for_agency, organ)) == 2
    # the same certificate cannot belong to another agency
    other = organ_ids.new()
    await add(session, other)
    with pytest.raises(CertificateRefused) as caught:
        await registry.add_certificate(session.db, other, pki.pem(renewal).encode())
    assert caught.value.code is Code.SENDER_MISMATCH


async def test_weak_key_is_refused_at_registration(session, settings, organ_ids) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    ca = home.load_dev_ca(settings)
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    _, cert = issuing.issue(ca.key, ca.cert, issuing.IssueRequest(common_name="w"), key=small)
    with pytest.raises(CertificateRefused) as caught:
        await add(session, organ_ids.new(), certificates=(pki.pem(cert).encode(),))
    assert caught.value.code is Code.ALGORITHM_WEAK


async def test_suspend_and_resume_keep_broker_permissions(session, organ_ids) -> None:
    organ = organ_ids.new()
    await add(session, organ)
    assert await registry.set_state(session.db, organ, "suspended") is True
    assert await registry.set_state(session.db, organ, "suspended") is False
    assert (await session.db.fetchrow(Q.agency_get, organ))["state"] == "suspended"
    async with Management(session.settings.amqp) as api:
        assert await api.get_permissions(session.settings.amqp.vhost, organ) is not None
    assert await registry.set_state(session.db, organ, "active") is True
    kinds = [
        r["kind"]
        for r in await session.db.fetch(
            "SELECT kind FROM event WHERE organ_id = $1 ORDER BY seq", organ
        )
    ]
    assert kinds == ["agency_added", "agency_suspended", "agency_resumed"]
    with pytest.raises(RegistryError, match="not registered"):
        await registry.set_state(session.db, "000.00.00.Z99", "suspended")


async def test_duplicate_and_malformed_ids_are_refused(session, organ_ids) -> None:
    organ = organ_ids.new()
    await add(session, organ)
    with pytest.raises(RegistryError, match="already registered"):
        await add(session, organ)
    with pytest.raises(RegistryError, match="--legacy"):
        await add(session, "28.22.H17")


async def test_a_legacy_id_is_registered_when_asked(session, broker_users) -> None:
    legacy = f"lt-legacy-{pki.utcnow().microsecond}"
    broker_users.append(legacy)
    credentials = await add(session, legacy, legacy=True)
    assert credentials.organ_id == legacy
    assert (await session.db.fetchrow(Q.agency_get, legacy))["legacy_id"] is True
