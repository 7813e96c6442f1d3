"""Claimed bodies (contract, version 2, "Large packages"): a package too large to travel in an
inbox message is fetched here — ``GET /api/v1/bodies/{message_id}``, the delivery's message id,
as its ``x-body-url`` says — by the system now hosting the recipient (its gateway token) or an
operator; 404 for anyone else, as for an unknown id. The bytes are streamed from PostgreSQL in
slices, so a hub holds one slice per fetch, not the package (a compressed value is read whole:
a slice of one is decompressed from its start). The gateway inbox and the national-SDK
endpoint serve a claim check's bytes with the same functions."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import asyncpg
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from hub.db import Q
from hub.http.auth import Authenticated
from hub.http.problems import Problem

router = APIRouter(prefix="/api/v1/bodies", tags=["gateway"])

SLICE = 4 * 1024 * 1024
XML = "application/xml"


class BodyGone(Exception):
    """The bytes were removed by retention while they were being read."""


def _gone(when: object) -> Problem:
    return Problem(
        410,
        "Gone",
        f"the package's bytes were removed by retention ({when}); its digest and receipt "
        "remain, and an operator's retention archive holds the bytes",
    )


async def slices(
    pool: asyncpg.Pool, package_id: int, size: int, *, compressed: bool
) -> AsyncIterator[bytes]:
    """The package's bytes, a slice at a time."""
    if compressed:
        body = await pool.fetchval(Q.body_whole, package_id)
        if body is None:
            raise BodyGone(package_id)
        view = memoryview(body)
        for start in range(0, len(view), SLICE):
            yield bytes(view[start : start + SLICE])
        return
    for start in range(0, size, SLICE):
        piece = await pool.fetchval(Q.body_slice, package_id, start + 1, SLICE)
        if piece is None:
            raise BodyGone(package_id)
        yield piece


async def streamed(
    pool: asyncpg.Pool, message_id: str, *, system: str | None, headers: dict[str, str]
) -> Response:
    """The claimed bytes of delivery ``message_id`` as a streamed response; ``system``: only
    if that system hosts the recipient (None: an operator, or a caller already checked)."""
    row = await pool.fetchrow(Q.claimed_body, message_id)
    if row is None or (system is not None and row["system_id"] != system):
        raise Problem(404, "Not found", f"no package body {message_id!r} that you may fetch")
    if row["dropped"]:
        raise _gone(row["body_dropped_at"])
    digest = base64.b64encode(bytes(row["digest"])).decode("ascii")
    return StreamingResponse(
        slices(pool, row["package_id"], row["size_bytes"], compressed=row["compressed"]),
        media_type=XML,
        headers={
            **headers,
            "Content-Length": str(row["size_bytes"]),
            "Repr-Digest": f"sha-256=:{digest}:",
        },
    )


async def whole(pool: asyncpg.Pool, package_id: int) -> bytes:
    """The claimed bytes in one piece (the national-SDK endpoint sends them base64 in JSON)."""
    body = await pool.fetchval(Q.body_whole, package_id)
    if body is None:
        raise _gone("earlier")
    return bytes(body)


@router.get(
    "/{message_id:path}",
    summary="A large package's bytes (a claim check's x-body-url), streamed",
    description="For the system hosting the delivery's recipient and for operators; 404 for "
    "anyone else, as for an unknown id; 410 once retention removed the bytes. "
    "`Repr-Digest` carries the SHA-256 the inbox message's x-body-sha256 names.",
    responses={200: {"content": {XML: {}}}, 404: {}, 410: {}},
)
async def get_body(message_id: str, request: Request, who: Authenticated) -> Response:
    pool = request.app.state.hub.pipeline.pool
    system = None if who.operator is not None else who.system
    return await streamed(pool, message_id, system=system, headers={})
