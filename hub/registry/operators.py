"""Operator accounts: viewers watch, admins act. Tokens are shown once and stored hashed."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from hub.audit import events
from hub.db import DB, Q
from hub.errors import RegistryError
from hub.registry.tokens import token_hash

ROLES = ("viewer", "admin")
_NAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")


@dataclass(frozen=True, kw_only=True, slots=True)
class OperatorToken:
    name: str
    role: str
    token: str


async def add(db: DB, name: str, role: str) -> OperatorToken:
    if role not in ROLES:
        raise RegistryError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if _NAME.fullmatch(name) is None:
        raise RegistryError(f"operator name {name!r}: use 1 to 64 of A-Z a-z 0-9 . _ @ -")
    if await db.fetchrow(Q.operator_get, name) is not None:
        raise RegistryError(f"operator {name} already exists")
    token = "lto_" + secrets.token_urlsafe(32)
    async with db.transaction():
        await db.execute(Q.operator_insert, name, role, token_hash(token))
        await events.append(
            db, kind="operator_added", actor="operator", payload={"name": name, "role": role}
        )
    return OperatorToken(name=name, role=role, token=token)


async def list_all(db: DB) -> list[dict[str, object]]:
    return [
        {
            "name": r["name"],
            "role": r["role"],
            "created_at": r["created_at"].isoformat(),
            "revoked_at": r["disabled_at"].isoformat() if r["disabled_at"] else None,
        }
        for r in await db.fetch(Q.operator_list)
    ]


async def revoke(db: DB, name: str) -> bool:
    """The operator's token stops working at once (the account stays on record); False when it
    already was revoked."""
    if await db.fetchrow(Q.operator_get, name) is None:
        raise RegistryError(f"no operator {name!r} (see `lienthong operator list`)")
    async with db.transaction():
        revoked = await db.fetchval(Q.operator_revoke, name) is not None
        if revoked:
            await events.append(
                db, kind="operator_revoked", actor="operator", payload={"name": name}
            )
    return revoked
