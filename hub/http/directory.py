"""``GET /api/v1/directory``: the national directory, for systems to keep their address books
and for operators (contract, version 2)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from hub.db import Q
from hub.http.auth import Authenticated
from hub.registry import directory

router = APIRouter(prefix="/api/v1", tags=["directory"])


@router.get(
    "/directory",
    summary="Agencies: search by code or name, by parent; paged",
)
async def search(
    request: Request,
    who: Authenticated,
    q: Annotated[
        str | None, Query(description="the start of an OrganId, or part of a name")
    ] = None,
    parent: Annotated[str | None, Query(description="only the agencies directly under it")] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    pool = request.app.state.hub.pipeline.pool
    rows = await pool.fetch(
        Q.directory_search, q or None, parent, page_size, (page - 1) * page_size
    )
    return {
        "agencies": [directory.as_item(r) for r in rows],
        "total": rows[0]["total"] if rows else 0,
        "page": page,
        "page_size": page_size,
    }
