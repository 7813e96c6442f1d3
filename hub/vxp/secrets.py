"""National-SDK secrets, sealed in PostgreSQL under a key in ``LIENTHONG_HOME``.

The SDK's HMAC needs the secret itself, so it cannot be stored as a hash. It is sealed with
AES-256-GCM under ``LIENTHONG_HOME/hub/vxp-secrets.key`` (made on first use, mode 0600; every
node of a hub needs the same file, as it needs the hub's signing key), with the system id as
associated data, so a sealed secret copied to another system's row does not open. A rotation
keeps the previous secret valid for a grace period, so a system can switch without a gap.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets as random
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub.audit import events
from hub.config import Settings
from hub.db import DB, Q
from hub.errors import ConfigError, RegistryError
from hub.home import write_private

GRACE = dt.timedelta(hours=24)
"""How long a rotated secret's predecessor stays valid unless the operator says otherwise."""
_NONCE = 12


class SecretBox:
    """Seals and opens secrets under one 256-bit key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ConfigError("the national-SDK secrets key must be 32 bytes")
        self._aead = AESGCM(key)

    @classmethod
    def of(cls, settings: Settings) -> SecretBox:
        return cls(load_or_make_key(key_path(settings)))

    def seal(self, system_id: str, secret: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, secret.encode("utf-8"), system_id.encode())

    def open(self, system_id: str, sealed: bytes) -> str:
        try:
            plain = self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], system_id.encode())
        except InvalidTag as exc:
            raise ConfigError(
                f"the national-SDK secret of system {system_id} does not open with "
                "LIENTHONG_HOME/hub/vxp-secrets.key: is this the hub's own key file?"
            ) from exc
        return plain.decode("utf-8")


def key_path(settings: Settings) -> Path:
    return settings.hub_dir / "vxp-secrets.key"


def load_or_make_key(path: Path) -> bytes:
    if path.exists():
        data = path.read_bytes()
        if len(data) != 32:
            raise ConfigError(f"{path} must hold 32 bytes (it holds {len(data)})")
        return data
    key = os.urandom(32)
    write_private(path, key)
    return key


def new_secret() -> str:
    return random.token_urlsafe(32)


@dataclass(frozen=True, kw_only=True, slots=True)
class Rotated:
    system_id: str
    secret: str
    previous_until: dt.datetime


async def seal_plaintext(db: DB | asyncpg.Pool, box: SecretBox) -> int:
    """Seal the secrets that migration 0007 stored in the clear; returns how many."""
    rows = await db.fetch(Q.vxp_plaintext_secrets)
    for row in rows:
        await db.execute(
            Q.vxp_seal_plaintext, row["system_id"], box.seal(row["system_id"], row["vxp_secret"])
        )
    return len(rows)


async def valid_secrets(db: DB | asyncpg.Pool, box: SecretBox, system_id: str) -> list[bytes]:
    """The secrets a request of ``system_id`` may be signed with now (none if unknown)."""
    row = await db.fetchrow(Q.vxp_secrets_of, system_id)
    if row is None:
        return []
    found: list[bytes] = []
    if row["vxp_sealed"] is not None:
        found.append(box.open(system_id, bytes(row["vxp_sealed"])).encode("utf-8"))
    elif row["vxp_secret"] is not None:  # not yet sealed (the hub seals them at start)
        found.append(row["vxp_secret"].encode("utf-8"))
    if row["vxp_previous_sealed"] is not None and row["previous_valid"]:
        found.append(box.open(system_id, bytes(row["vxp_previous_sealed"])).encode("utf-8"))
    return found


async def rotate(db: DB, box: SecretBox, system_id: str, *, grace: dt.timedelta = GRACE) -> Rotated:
    """A new secret; the current one stays valid for ``grace`` (0: at once invalid)."""
    row = await db.fetchrow(Q.vxp_secrets_of, system_id)
    if row is None:
        raise RegistryError(f"system {system_id} is not registered (see `lienthong system list`)")
    current = (
        bytes(row["vxp_sealed"])
        if row["vxp_sealed"] is not None
        else box.seal(system_id, row["vxp_secret"])
    )
    secret = new_secret()
    until = await db.fetchval(
        Q.vxp_rotate, system_id, box.seal(system_id, secret), current, grace.total_seconds()
    )
    await events.append(
        db,
        kind="system_secret_rotated",
        actor="operator",
        payload={"system": system_id, "previous_valid_until": until.isoformat()},
    )
    return Rotated(system_id=system_id, secret=secret, previous_until=until)
