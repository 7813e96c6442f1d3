"""Connected systems: what connects to the hub on behalf of the agencies it hosts.

A system has one RabbitMQ user (name = system id) with least-privilege permissions, two inbox
queues, a gateway token, a national-SDK secret, a state and a policy for unsigned packages.
An agency registered without ``--system`` is its own system (system id = OrganId), which is
exactly the version-1 agency: its broker user, inboxes and token.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

import asyncpg
from aio_pika.abc import AbstractChannel

from hub.audit import events
from hub.broker import names, topology
from hub.broker.management import Management
from hub.config import Settings
from hub.db import DB, Q
from hub.errors import RegistryError
from hub.registry.organ_id import check_queue_names
from hub.registry.tokens import token_hash
from hub.vxp import secrets as vxp_secrets
from hub.vxp.secrets import SecretBox, new_secret

SYSTEM_ID = re.compile(r"[0-9A-Za-z._-]{1,64}")


@dataclass(frozen=True, kw_only=True, slots=True)
class SystemCredentials:
    """What ``system add --json`` prints; the password, token and secret are shown once."""

    system_id: str
    name: str
    amqp_user: str
    amqp_password: str
    http_token: str
    vxp_secret: str

    def as_json(self) -> dict[str, object]:
        return {
            "system_id": self.system_id,
            "name": self.name,
            "amqp_user": self.amqp_user,
            "amqp_password": self.amqp_password,
            "http_token": self.http_token,
            "vxp_secret": self.vxp_secret,
        }


def check_system_id(system_id: str) -> str:
    if SYSTEM_ID.fullmatch(system_id) is None:
        raise RegistryError(
            f"system id {system_id!r} is not valid: use 1 to 64 characters from "
            "0-9 A-Z a-z . _ - (e.g. vxp.saas.02)"
        )
    check_queue_names(system_id)
    return system_id


async def provision_broker(
    management: Management,
    channel: AbstractChannel,
    settings: Settings,
    system_id: str,
    password: str,
) -> None:
    """The system's RabbitMQ user, its permissions and its two inbox queues (idempotent)."""
    await management.put_user(system_id, password, tags="")
    await management.put_permissions(
        settings.amqp.vhost, system_id, names.system_permissions(system_id)
    )
    await topology.declare_inbox(channel, system_id)


async def add_system(
    db: asyncpg.Connection,
    management: Management,
    channel: AbstractChannel,
    settings: Settings,
    *,
    system_id: str,
    name: str,
    event: bool = True,
) -> SystemCredentials:
    """Register a system: broker user and inboxes first (idempotent ``PUT``s), then the row.

    The caller holds a transaction when the system is made together with its first agency."""
    system_id = check_system_id(system_id)
    name = name.strip()
    if not name:
        raise RegistryError("a system needs a name: --name 'Nền tảng dùng chung tỉnh Nghệ An'")
    if await db.fetchrow(Q.system_get, system_id) is not None:
        raise RegistryError(f"system {system_id} is already registered")
    password = secrets.token_urlsafe(24)
    http_token = "lt_" + secrets.token_urlsafe(32)
    vxp_secret = new_secret()
    sealed = SecretBox.of(settings).seal(system_id, vxp_secret)
    await provision_broker(management, channel, settings, system_id, password)
    await db.execute(Q.system_insert, system_id, name, token_hash(http_token), sealed)
    if event:
        await events.append(
            db, kind="system_added", actor="operator", organ_id=None, payload={"system": system_id}
        )
    return SystemCredentials(
        system_id=system_id,
        name=name,
        amqp_user=system_id,
        amqp_password=password,
        http_token=http_token,
        vxp_secret=vxp_secret,
    )


async def reset_access(
    db: DB, management: Management, settings: Settings, system_id: str
) -> SystemCredentials:
    """New credentials for a system, shown once: broker password, gateway token and
    national-SDK secret (the old ones stop working at once). For a lost or leaked set, or a
    checkout whose saved credentials are gone."""
    row = await require(db, system_id)
    password = secrets.token_urlsafe(24)
    http_token = "lt_" + secrets.token_urlsafe(32)
    await management.put_user(system_id, password, tags="")
    await db.execute(Q.system_set_token, system_id, token_hash(http_token))
    rotated = await vxp_secrets.rotate(db, SecretBox.of(settings), system_id, grace=dt.timedelta(0))
    await events.append(
        db, kind="system_access_reset", actor="operator", payload={"system": system_id}
    )
    return SystemCredentials(
        system_id=system_id,
        name=row["name"],
        amqp_user=system_id,
        amqp_password=password,
        http_token=http_token,
        vxp_secret=rotated.secret,
    )


async def require(db: DB, system_id: str) -> asyncpg.Record:
    row: asyncpg.Record | None = await db.fetchrow(Q.system_get, system_id)
    if row is None:
        raise RegistryError(f"system {system_id} is not registered (see `lienthong system list`)")
    return row


async def set_state(db: DB, system_id: str, state: str, *, actor: str = "operator") -> bool:
    """Suspend or resume a system (and so, in effect, every agency it hosts)."""
    await require(db, system_id)
    changed = await db.fetchval(Q.system_set_state, system_id, state) is not None
    if changed:
        await events.append(
            db,
            kind=f"system_{'suspended' if state == 'suspended' else 'resumed'}",
            actor=actor,
            payload={"system": system_id},
        )
    return changed


async def set_policy(db: DB, system_id: str, unsigned: str) -> None:
    """``--unsigned accept|refuse`` (contract, version 2: national SDK compatibility)."""
    if unsigned not in ("accept", "refuse"):
        raise RegistryError(f"--unsigned must be accept or refuse, not {unsigned!r}")
    await require(db, system_id)
    await db.execute(Q.system_set_policy, system_id, unsigned)
    await events.append(
        db,
        kind="system_policy",
        actor="operator",
        payload={"system": system_id, "unsigned": unsigned},
    )


async def list_systems(db: DB) -> list[asyncpg.Record]:
    return list(await db.fetch(Q.system_list))
