"""Bearer tokens: an agency's gateway token, or an operator's token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from hub.db import Q
from hub.http.problems import Problem
from hub.registry import token_hash


@dataclass(frozen=True, kw_only=True, slots=True)
class Caller:
    agency: str | None = None
    agency_state: str | None = None
    operator: str | None = None
    role: str | None = None


async def caller(request: Request) -> Caller:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "Unauthorized", "send Authorization: Bearer <token>")
    digest = token_hash(token.strip())
    pool = request.app.state.hub.pipeline.pool
    agency = await pool.fetchrow(Q.agency_by_token, digest)
    if agency is not None:
        return Caller(agency=agency["organ_id"], agency_state=agency["state"])
    operator = await pool.fetchrow(Q.operator_by_token, digest)
    if operator is not None:
        return Caller(operator=operator["name"], role=operator["role"])
    raise Problem(401, "Unauthorized", "the token is not valid")


Authenticated = Annotated[Caller, Depends(caller)]


async def agency_caller(request: Request) -> Caller:
    found = await caller(request)
    if found.agency is None:
        raise Problem(
            403, "Forbidden", "this route is for agencies (use an agency's gateway token)"
        )
    return found


AgencyCaller = Annotated[Caller, Depends(agency_caller)]
