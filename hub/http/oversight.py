"""The operators' API (``/api/v1/ops``): viewers read, admins act; every action is recorded."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from hub import oversight
from hub.db import Q
from hub.errors import RegistryError
from hub.http.auth import Caller, caller
from hub.http.problems import Problem
from hub.registry import registry
from hub.route import deadletters

router = APIRouter(prefix="/api/v1/ops", tags=["operations"])


async def operator(request: Request) -> Caller:
    found = await caller(request)
    if found.operator is None:
        raise Problem(403, "Forbidden", "this route is for the hub's operators")
    return found


async def admin(request: Request) -> Caller:
    found = await operator(request)
    if found.role != "admin":
        raise Problem(403, "Forbidden", f"operator {found.operator} is a viewer; admins act")
    return found


Operator = Annotated[Caller, Depends(operator)]
Admin = Annotated[Caller, Depends(admin)]


def _hub(request: Request) -> Any:
    return request.app.state.hub


@router.get("/whoami", summary="The operator a token belongs to, and its role")
async def whoami(who: Operator) -> dict[str, Any]:
    return {"operator": who.operator, "role": who.role}


@router.get("/overview", summary="The dashboard's overview: last hour, backlogs, alerts")
async def overview(request: Request, who: Operator) -> dict[str, Any]:
    hub = _hub(request)
    async with hub.pipeline.pool.acquire() as db:
        return await oversight.overview(db, hub.pipeline.settings)


@router.get("/queues", summary="Every hub queue and agency inbox (RabbitMQ management API)")
async def queues(request: Request, who: Operator) -> dict[str, Any]:
    figures = await oversight.queues(_hub(request).pipeline.settings)
    return {"queues": [f.as_json() for f in figures]}


@router.get(
    "/documents",
    summary="Search documents; with code=…, rejected submissions; format=csv for a spreadsheet",
)
async def search(
    request: Request,
    who: Operator,
    document_id: str | None = None,
    sender: str | None = None,
    recipient: str | None = None,
    status: Annotated[str | None, Query(description="latest status code, e.g. 03")] = None,
    code: Annotated[str | None, Query(description="rejection code, e.g. CERT_REVOKED")] = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Any:
    q = oversight.Search(
        document_id=document_id or None,
        sender=sender or None,
        recipient=recipient or None,
        status=status or None,
        code=code or None,
        since=since,
        until=until,
        overdue=overdue,
        limit=limit,
        offset=offset,
    )
    async with _hub(request).pipeline.pool.acquire() as db:
        rows = await oversight.search(db, q)
    if format == "csv":
        return Response(
            oversight.as_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="documents.csv"'},
        )
    return {"documents": rows, "limit": limit, "offset": offset}


@router.get("/rejections", summary="Rejections by code per hour")
async def rejections(
    request: Request, who: Operator, hours: Annotated[int, Query(ge=1, le=24 * 31)] = 24
) -> dict[str, Any]:
    rows = await _hub(request).pipeline.pool.fetch(Q.ops_rejections, hours)
    return {
        "rejections": [
            {"hour": oversight.iso(r["hour"]), "code": r["code"], "count": r["n"]} for r in rows
        ]
    }


@router.get("/dead-letters", summary="Messages in lienthong.dead, oldest first")
async def dead_letters(
    request: Request, who: Operator, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> dict[str, Any]:
    hub = _hub(request)
    letters = await deadletters.peek(hub.connection, hub.pipeline.stamper, limit=limit)
    return {"dead_letters": [d.summary() for d in letters]}


@router.get("/dead-letters/{letter_id}", summary="One dead letter, with its body")
async def dead_letter(letter_id: str, request: Request, who: Operator) -> dict[str, Any]:
    hub = _hub(request)
    found = await deadletters.peek(hub.connection, hub.pipeline.stamper, limit=deadletters.MAX_SCAN)
    for letter in found:
        if letter.id == letter_id:
            return {**letter.summary(), "body": letter.body.decode("utf-8", errors="replace")}
    raise Problem(404, "Not found", f"no dead letter {letter_id}")


async def _take(request: Request, who: Caller, letter_id: str, *, requeue: bool) -> dict[str, Any]:
    hub = _hub(request)
    try:
        letter = await deadletters.take(
            hub.connection,
            hub.pipeline.stamper,
            letter_id,
            requeue=requeue,
            urgent_documents=hub.pipeline.registry.urgent_documents,
        )
    except ValueError as exc:
        raise Problem(409, "Conflict", str(exc)) from exc
    if letter is None:
        raise Problem(404, "Not found", f"no dead letter {letter_id}")
    action = "requeue" if requeue else "discard"
    async with hub.pipeline.pool.acquire() as db:
        await oversight.record_action(
            db,
            str(who.operator),
            f"dead_letter.{action}",
            target=letter.id,
            submitter=letter.submitter,
            reason=letter.reason[:200],
        )
    return {"done": action, **letter.summary()}


@router.post("/dead-letters/{letter_id}/requeue", summary="Process a dead letter again (admin)")
async def requeue(letter_id: str, request: Request, who: Admin) -> dict[str, Any]:
    return await _take(request, who, letter_id, requeue=True)


@router.post("/dead-letters/{letter_id}/discard", summary="Drop a dead letter (admin)")
async def discard(letter_id: str, request: Request, who: Admin) -> dict[str, Any]:
    return await _take(request, who, letter_id, requeue=False)


@router.get(
    "/agencies",
    summary="The agency tree, a level at a time (or a search): system, state, closure, "
    "children, certificates",
)
async def agencies(
    request: Request,
    who: Operator,
    parent: Annotated[str | None, Query(description="the level under this agency")] = None,
    q: Annotated[str | None, Query(description="code prefix or part of a name")] = None,
    limit: Annotated[int, Query(ge=1, le=2000)] = 500,
) -> dict[str, Any]:
    async with _hub(request).pipeline.pool.acquire() as db:
        return {
            "parent": parent,
            "agencies": await oversight.agencies(db, parent=parent, q=q, limit=limit),
        }


@router.get("/agencies/{organ_id}", summary="One agency, with its certificates and queues")
async def agency(organ_id: str, request: Request, who: Operator) -> dict[str, Any]:
    hub = _hub(request)
    async with hub.pipeline.pool.acquire() as db:
        found = await oversight.agency(db, organ_id)
    if found is None:
        raise Problem(404, "Not found", f"agency {organ_id} is not registered")
    try:
        figures = await oversight.queues(hub.pipeline.settings)
        found["queues"] = [f.as_json() for f in figures if f.agency == organ_id]
    except Exception as exc:
        found["queues"], found["broker_error"] = [], str(exc)
    return found


async def _set_state(request: Request, who: Caller, organ_id: str, state: str) -> dict[str, Any]:
    async with _hub(request).pipeline.pool.acquire() as db:
        try:
            changed = await registry.set_state(db, organ_id, state, actor=str(who.operator))
        except RegistryError as exc:
            raise Problem(404, "Not found", str(exc)) from exc
        action = "suspend" if state == "suspended" else "resume"
        await oversight.record_action(db, str(who.operator), f"agency.{action}", target=organ_id)
    return {"organ_id": organ_id, "state": state, "changed": changed}


@router.post("/agencies/{organ_id}/suspend", summary="Suspend an agency (admin)")
async def suspend(organ_id: str, request: Request, who: Admin) -> dict[str, Any]:
    return await _set_state(request, who, organ_id, "suspended")


@router.post("/agencies/{organ_id}/resume", summary="Resume an agency (admin)")
async def resume(organ_id: str, request: Request, who: Admin) -> dict[str, Any]:
    return await _set_state(request, who, organ_id, "active")


@router.get("/actions", summary="What operators did: who, what, when (from the hash chain)")
async def actions(
    request: Request, who: Operator, limit: Annotated[int, Query(ge=1, le=1000)] = 50
) -> dict[str, Any]:
    async with _hub(request).pipeline.pool.acquire() as db:
        return {"actions": await oversight.actions(db, limit)}
