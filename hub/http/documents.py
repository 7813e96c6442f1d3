"""Documents: the timeline of one, and the overdue list (the same-day rule)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from hub import timeline
from hub.db import Q
from hub.http.auth import Authenticated
from hub.http.problems import Problem

router = APIRouter(prefix="/api/v1/documents", tags=["documents"])


@router.get(
    "",
    summary="Documents past their same-day deadline without any status (overdue=true)",
)
async def overdue_documents(
    request: Request,
    who: Authenticated,
    overdue: Annotated[bool, Query(description="list overdue deliveries")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    if not overdue:
        raise Problem(400, "Bad request", "only ?overdue=true is supported here for now")
    pool = request.app.state.hub.pipeline.pool
    scope = None if who.operator is not None else who.system
    rows = await pool.fetch(Q.overdue_list, scope, limit, offset)
    return {
        "overdue": [
            {
                "document_id": r["document_id"],
                "sender": r["sender"],
                "recipient": r["recipient"],
                "subject": r["subject"],
                "priority": r["priority"],
                "delivered_at": r["published_at"].isoformat(),
                "deadline": r["deadline_at"].isoformat(),
                "overdue_since": r["overdue_at"].isoformat(),
            }
            for r in rows
        ],
        "limit": limit,
        "offset": offset,
    }


@router.get(
    "/{document_id:path}",
    summary="A document's timeline",
    description="For its sender, its recipients and operators; 404 for anyone else, as for an "
    "unknown id. The DocumentId is URL-encoded.",
)
async def document_timeline(
    document_id: str, request: Request, who: Authenticated
) -> dict[str, Any]:
    pool = request.app.state.hub.pipeline.pool
    viewer = timeline.Viewer(system=who.system, operator=who.operator)
    async with pool.acquire() as conn:
        found = await timeline.timeline(conn, document_id, viewer)
    if found is None:
        raise Problem(404, "Not found", f"no document {document_id!r} that you may see")
    return found
