"""Bearer tokens: a system's gateway token, or an operator's token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from hub.db import Q
from hub.http.problems import Problem
from hub.registry.tokens import token_hash


@dataclass(frozen=True, kw_only=True, slots=True)
class Caller:
    system: str | None = None
    """The system the gateway token belongs to (in version 1, an agency that is its own)."""
    system_state: str | None = None
    operator: str | None = None
    role: str | None = None


async def caller(request: Request) -> Caller:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "Unauthorized", "send Authorization: Bearer <token>")
    digest = token_hash(token.strip())
    pool = request.app.state.hub.pipeline.pool
    system = await pool.fetchrow(Q.system_by_token, digest)
    if system is not None:
        return Caller(system=system["system_id"], system_state=system["state"])
    operator = await pool.fetchrow(Q.operator_by_token, digest)
    if operator is not None:
        return Caller(operator=operator["name"], role=operator["role"])
    raise Problem(401, "Unauthorized", "the token is not valid")


Authenticated = Annotated[Caller, Depends(caller)]


async def system_caller(request: Request) -> Caller:
    found = await caller(request)
    if found.system is None:
        raise Problem(403, "Forbidden", "this route is for systems (use a system's gateway token)")
    return found


SystemCaller = Annotated[Caller, Depends(system_caller)]
