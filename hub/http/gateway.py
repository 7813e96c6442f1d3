"""The HTTP gateway, for agencies whose systems cannot speak AMQP.

Submitting runs the same pipeline as AMQP; the agency's gateway token plays the role of the
broker user (a package claiming another sender is ``SENDER_MISMATCH``), ``Idempotency-Key``
the role of ``message_id``. The inbox is the system's RabbitMQ inbox: reading it takes waiting
messages off the queues into a table, where they stay until the system acknowledges them; each
says which hosted agency it is for (``x-recipient``). The token is a system's (version 1: the
agency's own system), so a package is accepted from any agency the system hosts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from hub.broker import names
from hub.check.decision import Submission, fallback_message_id
from hub.check.schema import Kind
from hub.db import Q
from hub.http import bodies
from hub.http.auth import SystemCaller
from hub.http.problems import Problem
from hub.record.records import Recorded

router = APIRouter(prefix="/api/v1", tags=["gateway"])

SUBMIT_WAIT_SECONDS = 10.0
XML = "application/xml"

RECEIPT_EXAMPLE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Receipt xmlns="urn:lienthong:receipt:1">'
    "<MessageId>g22-0001</MessageId><DocumentId>000.00.00.G22,2026/11/23,7816/VPCP-TTĐT"
    "</DocumentId><Submitter>000.00.00.G22</Submitter><Kind>edoc</Kind><Outcome>accepted"
    "</Outcome><Detail>accepted for delivery to 000.00.00.H41</Detail><Timestamp>"
    "2026-11-23T02:15:00.000Z</Timestamp><SubmissionDigest>…</SubmissionDigest><Recipients>"
    "<OrganId>000.00.00.H41</OrganId></Recipients><ds:Signature>…</ds:Signature></Receipt>"
)
SUBMIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The hub's signed receipt, accepted or rejected (see Outcome and Code)",
        "content": {XML: {"example": RECEIPT_EXAMPLE}},
    },
    202: {"description": "Not ready in time: poll the receipt at the Location header"},
    401: {"description": "No valid gateway token"},
}
PACKAGE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            XML: {
                "schema": {"type": "string", "format": "binary"},
                "example": '<?xml version="1.0" encoding="UTF-8"?><edXML '
                'xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">…</edXML>',
            }
        },
    }
}


def _state(request: Request) -> Any:
    return request.app.state.hub


async def read_body(request: Request, limit: int) -> bytes:
    """The body, but never more than ``limit`` + 1 bytes (enough to be refused as TOO_LARGE
    without holding more)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit + 1:
            break
    return bytes(body)


async def run_submission(request: Request, submission: Submission) -> Recorded | None:
    """Run (or join, when the same submission is already running) the pipeline; ``None`` when
    it has not finished within :data:`SUBMIT_WAIT_SECONDS` (it goes on)."""
    state = _state(request)
    key = (submission.submitter, submission.message_id)
    task = state.in_flight.get(key)
    if task is None:
        task = asyncio.create_task(state.pipeline.process(submission))
        state.in_flight[key] = task
        task.add_done_callback(lambda _: state.in_flight.pop(key, None))
    try:
        recorded: Recorded = await asyncio.wait_for(asyncio.shield(task), SUBMIT_WAIT_SECONDS)
    except TimeoutError:
        return None
    return recorded


async def _submit(
    request: Request, organ_id: str, kind: Kind, idempotency_key: str | None
) -> Response:
    data = await read_body(request, _state(request).pipeline.settings.max_package_bytes)
    message_id = (idempotency_key or "").strip() or fallback_message_id(data)
    submission = Submission(
        submitter=organ_id, message_id=message_id, kind=kind, body=data, channel="http"
    )
    recorded = await run_submission(request, submission)
    if recorded is None:
        location = receipt_location(message_id)
        return JSONResponse(
            {"message_id": message_id, "receipt": location},
            status_code=202,
            headers={"Location": location},
        )
    return Response(recorded.receipt, media_type=XML, headers={"X-Message-Id": message_id})


@router.post(
    "/documents",
    summary="Submit a signed edXML document package",
    responses=SUBMIT_RESPONSES,
    openapi_extra=PACKAGE_BODY,
)
async def submit_document(
    request: Request,
    who: SystemCaller,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response:
    assert who.system is not None
    return await _submit(request, who.system, Kind.EDOC, idempotency_key)


@router.post(
    "/statuses",
    summary="Submit a signed edXML status package",
    responses=SUBMIT_RESPONSES,
    openapi_extra=PACKAGE_BODY,
)
async def submit_status(
    request: Request,
    who: SystemCaller,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response:
    assert who.system is not None
    return await _submit(request, who.system, Kind.STATUS, idempotency_key)


def receipt_location(message_id: str) -> str:
    """Where a submission's receipt is polled: the message id percent-encoded whole, so an
    Idempotency-Key holding ``/`` (a DocumentId, say) still names one path."""
    return f"/api/v1/receipts/{quote(message_id, safe='')}"


@router.get(
    "/receipts/{message_id:path}",
    summary="The receipt of a submission: 202 while it is being processed, then 200",
    responses={200: {"content": {XML: {"example": RECEIPT_EXAMPLE}}}, 202: {}, 404: {}},
)
async def get_receipt(message_id: str, request: Request, who: SystemCaller) -> Response:
    state = _state(request)
    xml = await state.pipeline.pool.fetchval(Q.receipt_by_message, who.system, message_id)
    if xml is not None:
        return Response(xml, media_type=XML)
    if (who.system, message_id) in state.in_flight:
        return JSONResponse(
            {"message_id": message_id, "state": "processing"},
            status_code=202,
            headers={"Location": receipt_location(message_id), "Retry-After": "1"},
        )
    raise Problem(404, "Not found", f"no submission {message_id!r} from {who.system}")


def _text(headers: Mapping[str, Any], name: str) -> str | None:
    value = headers.get(name)
    return str(value) if value is not None else None


async def take_waiting(request: Request, system_id: str, wanted: int) -> None:
    """Move up to ``wanted`` messages from the system's RabbitMQ inboxes into the table."""
    state = _state(request)
    channel = await state.connection.channel()
    try:
        taken = 0
        for urgent in (True, False):
            queue = await channel.get_queue(
                names.urgent_inbox(system_id) if urgent else names.inbox(system_id), ensure=False
            )
            while taken < wanted:
                message = await queue.get(fail=False)
                if message is None:
                    break
                headers = message.headers or {}
                await state.pipeline.pool.execute(
                    Q.gateway_take,
                    system_id,
                    message.message_id or fallback_message_id(message.body),
                    message.type or "edoc",
                    _text(headers, names.DOCUMENT_HEADER),
                    urgent,
                    message.body,
                    _text(headers, names.RECIPIENT_HEADER),
                    _text(headers, names.ADDRESSED_TO_HEADER),
                )
                await message.ack()  # only once it is safely in the table
                taken += 1
    finally:
        await channel.close()


@router.get(
    "/inbox",
    summary="Messages waiting for this system (urgent first), with paging; each says which "
    "hosted agency it is for (recipient)",
)
async def list_inbox(
    request: Request,
    who: SystemCaller,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    recipient: Annotated[
        str | None, Query(description="only the messages for this hosted agency (OrganId)")
    ] = None,
) -> dict[str, Any]:
    assert who.system is not None
    await take_waiting(request, who.system, limit + offset)
    pool = _state(request).pipeline.pool
    rows = await pool.fetch(Q.gateway_list, who.system, limit, offset, recipient)
    total = await pool.fetchval(Q.gateway_count, who.system, recipient)
    return {
        "messages": [
            {
                "message_id": r["message_id"],
                "type": r["kind"],
                "recipient": r["recipient"],
                "addressed_to": r["addressed_to"],
                "document_id": r["document_id"],
                "urgent": r["urgent"],
                "received_at": r["taken_at"].isoformat(),
                "size": r["size"],
                "href": f"/api/v1/inbox/{r['message_id']}",
            }
            for r in rows
        ],
        "total": total,
        "limit": limit,
        "offset": offset,
    }


@router.get(
    "/inbox/{message_id}",
    summary="One message, byte for byte (type in X-Lienthong-Type)",
    responses={200: {"content": {XML: {}}}, 404: {}},
)
async def get_inbox_message(message_id: str, request: Request, who: SystemCaller) -> Response:
    row = await _state(request).pipeline.pool.fetchrow(Q.gateway_get, who.system, message_id)
    if row is None:
        raise Problem(404, "Not found", f"no message {message_id!r} in your inbox")
    headers = {"X-Lienthong-Type": row["kind"], "X-Message-Id": message_id}
    if row["document_id"]:
        headers["X-Document-Id"] = row["document_id"].encode("utf-8").decode("latin-1")
    if row["recipient"]:
        headers["X-Recipient"] = row["recipient"]
    if row["addressed_to"]:
        headers["X-Addressed-To"] = row["addressed_to"]
    if row["claimed_package"] is not None:  # a claim check: the package's bytes, streamed
        pool = _state(request).pipeline.pool
        return await bodies.streamed(pool, message_id, system=None, headers=headers)
    return Response(bytes(row["body"]), media_type=XML, headers=headers)


@router.post(
    "/inbox/{message_id}/ack",
    summary="Acknowledge a message: it leaves the inbox (idempotent)",
    status_code=204,
    responses={204: {}, 404: {}},
)
async def ack_inbox_message(message_id: str, request: Request, who: SystemCaller) -> Response:
    acked = await _state(request).pipeline.pool.fetchval(Q.gateway_ack, who.system, message_id)
    if acked is None:
        raise Problem(404, "Not found", f"no message {message_id!r} in your inbox")
    return Response(status_code=204)
