"""The national SDK's endpoint: VNPT ``SDKVXP`` 2.0.x works unchanged with
``service.endpoint`` = ``http://<LIENTHONG_HTTP>/vxp``, ``systemid`` a system id and ``secret``
that system's national-SDK secret (contract, version 2: national SDK compatibility).

Each call is authenticated as the SDK signs it (:mod:`hub.vxp.auth`), then answered in the SDK's
JSON (:mod:`hub.vxp.shapes`). ``sendEdoc`` runs the same pipeline, checks, receipts and
records as AMQP and the gateway (the receipt also reaches the system's inbox); the received
list, ``getEdoc`` and ``updateStatus`` read and acknowledge the same inbox as the gateway's
``/api/v1/inbox``; the agency calls answer from the directory. The SDK sends GET or POST as it
pleases (``countReceiveEdoc`` asks for GET and sends POST): both are answered.
"""

from __future__ import annotations

import base64
import datetime as dt
import time
from typing import Any

import structlog
from fastapi import APIRouter, Request, Response

from hub import metrics
from hub.check.decision import Submission, fallback_message_id
from hub.check.schema import Kind
from hub.db import Q
from hub.errors import HubError
from hub.http import bodies
from hub.http.gateway import (
    SUBMIT_WAIT_SECONDS,
    read_body,
    run_submission,
    take_waiting,
)
from hub.vxp import auth, shapes
from hub.vxp.secrets import valid_secrets

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/vxp", tags=["national SDK"], include_in_schema=True)

JSON = "application/json"
MOST_LISTED = 500
"""The most messages one ``getReceivedEdocList`` lists (the rest come in later calls)."""
MOST_SENT = 1000
KINDS = {"edoc": ["edoc"], "status": ["status"], "receipt": ["receipt"]}
"""``messagetype`` → the inbox messages listed; without one, documents and statuses."""
UPDATE_STATES = ("done", "fail", "processing")
_PRUNE_EVERY = 60.0
_last_prune = 0.0


def _failed(code: str, desc: str, *, status: int = 200) -> auth.Refused:
    """A call that cannot be answered OK (the request itself was authentic)."""
    return auth.Refused(code, desc, status=status)


def _answer(call: str, answer: dict[str, Any], status: int = 200) -> Response:
    outcome = "OK" if answer.get("status") == "OK" else str(answer.get("ErrorCode"))
    metrics.VXP_REQUESTS.labels(call, outcome).inc()
    return Response(shapes.encode(answer), status_code=status, media_type=JSON)


def _headers(request: Request) -> Any:
    """Every value of a header, any case, read as UTF-8 (the SDK signs UTF-8)."""
    raw = request.headers.raw

    def values(name: str) -> list[str]:
        wanted = name.lower().encode("latin-1")
        return [v.decode("utf-8", "replace") for k, v in raw if k.lower() == wanted]

    return values


def _raw_header(request: Request, name: str) -> bytes | None:
    wanted = name.lower().encode("latin-1")
    return next((v for k, v in request.headers.raw if k.lower() == wanted), None)


async def _authenticate(request: Request, *, body: bytes, carries_package: bool) -> auth.Signed:
    global _last_prune
    state = request.app.state.hub
    pool = state.pipeline.pool
    found: dict[str, list[bytes]] = {}
    system_id = auth.claimed_system(_raw_header(request, auth.SIGN_HEADER))
    if system_id:
        found[system_id] = await valid_secrets(pool, state.secrets, system_id)
    hash_header = _raw_header(request, auth.HASH_HEADER)
    signed = auth.authenticate(
        headers=_headers(request),
        sign_header=_raw_header(request, auth.SIGN_HEADER),
        hash_header=hash_header.decode("latin-1") if hash_header is not None else None,
        secrets_of=lambda s: found.get(s, []),
        body=body,
        carries_package=carries_package,
        now=dt.datetime.now(dt.UTC),
        zone=state.vxp_zone,
    )
    if await pool.fetchval(Q.vxp_seen_insert, signed.replay_key) is None:
        raise auth.Refused(
            "REPLAYED_REQUEST",
            "this signed request was already received once: the SDK signs each call with the "
            "time its service object was created, so create a new KnobstickServiceImp (or "
            "AgencyServiceImp) for each call",
        )
    if time.monotonic() - _last_prune > _PRUNE_EVERY:
        _last_prune = time.monotonic()
        await pool.execute(Q.vxp_seen_prune)
    return signed


async def _serve(request: Request, call: str, *, carries_package: bool = False) -> Response:
    state = request.app.state.hub
    body = (
        await read_body(request, state.pipeline.settings.max_package_bytes + 2)
        if carries_package
        else b""
    )
    try:
        signed = await _authenticate(request, body=body, carries_package=carries_package)
    except auth.Refused as refused:
        log.info("vxp_refused", call=call, code=refused.code, reason=refused.message)
        return _answer(call, shapes.fail(refused.code, refused.message), refused.status)
    try:
        answer = await CALLS[call](request, signed)
    except auth.Refused as failed:
        return _answer(call, shapes.fail(failed.code, failed.message), failed.status)
    except HubError as exc:
        log.warning("vxp_failed", call=call, system=signed.system_id, error=str(exc))
        return _answer(call, shapes.fail("UNAVAILABLE", str(exc)), 503)
    if isinstance(answer, Response):
        metrics.VXP_REQUESTS.labels(call, "OK").inc()
        return answer
    return _answer(call, answer)


async def send_edoc(request: Request, signed: auth.Signed) -> dict[str, Any]:
    kind_name = (signed.get("messagetype") or "edoc").lower()
    if kind_name not in ("edoc", "status"):
        raise _failed("BAD_REQUEST", f"messagetype {kind_name[:20]!r}: send edoc or status")
    submission = Submission(
        submitter=signed.system_id,
        message_id=fallback_message_id(signed.package),
        kind=Kind(kind_name),
        body=signed.package,
        channel="vxp",
    )
    recorded = await run_submission(request, submission)
    if recorded is None:
        return shapes.fail(
            "PENDING",
            f"received, not yet decided after {SUBMIT_WAIT_SECONDS:.0f} s: the hub's receipt "
            "will follow in the inbox (getReceivedEdocList with messagetype receipt)",
            DocId=submission.message_id,
        )
    if recorded.code is not None:
        return shapes.fail(recorded.code.value, recorded.detail, DocId=submission.message_id)
    return shapes.ok(recorded.detail, DocId=submission.message_id)


def _kinds(signed: auth.Signed) -> list[str]:
    return KINDS.get((signed.get("messagetype") or "").lower(), ["edoc", "status"])


async def received_list(request: Request, signed: auth.Signed) -> dict[str, Any]:
    await take_waiting(request, signed.system_id, MOST_LISTED)
    state = request.app.state.hub
    rows = await state.pipeline.pool.fetch(
        Q.vxp_inbox_list, signed.system_id, _kinds(signed), MOST_LISTED
    )
    return shapes.ok(data=[shapes.knobstick(r, state.vxp_zone) for r in rows])


async def _count(request: Request, signed: auth.Signed, kind: str) -> dict[str, Any]:
    await take_waiting(request, signed.system_id, MOST_LISTED)
    count = await request.app.state.hub.pipeline.pool.fetchval(
        Q.vxp_inbox_count, signed.system_id, [kind]
    )
    return shapes.ok(count=int(count))


async def count_edoc(request: Request, signed: auth.Signed) -> dict[str, Any]:
    return await _count(request, signed, "edoc")


async def count_status(request: Request, signed: auth.Signed) -> dict[str, Any]:
    return await _count(request, signed, "status")


def _doc_id(signed: auth.Signed, *, prefer: str) -> str:
    found = signed.values.get(prefer) or signed.get("docId")
    if not found:
        raise _failed("BAD_REQUEST", f"name the message with the {prefer} header")
    return found.strip()


async def _message(request: Request, signed: auth.Signed) -> Any:
    doc_id = _doc_id(signed, prefer="docId")
    row = await request.app.state.hub.pipeline.pool.fetchrow(
        Q.gateway_get, signed.system_id, doc_id
    )
    if row is None:
        raise _failed(
            "NOT_FOUND",
            f"no message {doc_id[:80]!r} in this system's inbox (getReceivedEdocList lists them)",
        )
    return row


async def _body(request: Request, row: Any) -> bytes:
    """The message's bytes; a claim check's from its package."""
    if row["claimed_package"] is None:
        return bytes(row["body"])
    return await bodies.whole(request.app.state.hub.pipeline.pool, row["claimed_package"])


async def get_edoc(request: Request, signed: auth.Signed) -> dict[str, Any]:
    row = await _message(request, signed)
    return shapes.ok(
        data=base64.b64encode(await _body(request, row)).decode("ascii"),
        docId=row["message_id"],
        messageType=row["kind"],
    )


async def download_edoc(request: Request, signed: auth.Signed) -> Response:
    try:
        row = await _message(request, signed)
    except auth.Refused as failed:
        # the SDK writes whatever comes back to its file: an empty body is its FAIL
        return Response(b"", status_code=404, headers={"X-Lienthong-Error": failed.message})
    return Response(await _body(request, row), media_type="application/xml")


async def update_status(request: Request, signed: auth.Signed) -> dict[str, Any]:
    doc_id = _doc_id(signed, prefer="docid")
    said = (signed.get("status") or "").strip().lower()
    if said not in UPDATE_STATES:
        raise _failed("BAD_REQUEST", f"status {said[:20]!r}: use done, fail or processing")
    pool = request.app.state.hub.pipeline.pool
    known = await pool.fetchrow(Q.vxp_inbox_known, signed.system_id, doc_id)
    if known is None:
        raise _failed("NOT_FOUND", f"no message {doc_id[:80]!r} in this system's inbox")
    if said == "done":
        await pool.fetchval(Q.gateway_ack, signed.system_id, doc_id)
        return shapes.ok("done: the message left the inbox")
    if known["acked_at"] is not None:
        raise _failed("ALREADY_DONE", f"message {doc_id[:80]!r} was already marked done")
    await pool.fetchval(Q.vxp_inbox_state, signed.system_id, doc_id, said)
    log.info("vxp_update_status", system=signed.system_id, message_id=doc_id, status=said)
    return shapes.ok(f"{said}: the message stays in the inbox until it is marked done")


async def sent_list(request: Request, signed: auth.Signed) -> dict[str, Any]:
    state = request.app.state.hub
    rows = await state.pipeline.pool.fetch(
        Q.vxp_sent_list, signed.system_id, signed.get("docId"), MOST_SENT
    )
    return shapes.ok(data=[shapes.sent(r, state.vxp_zone) for r in rows])


async def _agencies(request: Request, signed: auth.Signed) -> list[Any]:
    parent = signed.get("parent") or signed.get("pid")
    return list(await request.app.state.hub.pipeline.pool.fetch(Q.vxp_agencies, parent))


async def agencies(request: Request, signed: auth.Signed) -> dict[str, Any]:
    return shapes.ok(data=[shapes.agency(r) for r in await _agencies(request, signed)])


async def agencies_qd20(request: Request, signed: auth.Signed) -> dict[str, Any]:
    return shapes.ok(data=[shapes.agency(r, qd20=True) for r in await _agencies(request, signed)])


async def synchronize_units(request: Request, signed: auth.Signed) -> dict[str, Any]:
    zone = request.app.state.hub.vxp_zone
    return shapes.ok(data=[shapes.unit(r, zone) for r in await _agencies(request, signed)])


async def operators_only(request: Request, signed: auth.Signed) -> dict[str, Any]:
    raise _failed(
        "FORBIDDEN",
        "the hub's directory is kept by its operators: ask them to register or close an agency "
        "(lienthong agency add / agency close / directory import)",
        status=403,
    )


CALLS: dict[str, Any] = {
    "sendEdoc": send_edoc,
    "getReceivedEdocList": received_list,
    "getEdoc": get_edoc,
    "downloadEdoc": download_edoc,
    "updateStatus": update_status,
    "getSentEdocList": sent_list,
    "countReceiveEdoc": count_edoc,
    "countReceiveStatus": count_status,
    "getAgenciesList": agencies,
    "getAgenciesListQD20": agencies_qd20,
    "getSynchronizeUnit": synchronize_units,
    "registerAgency": operators_only,
    "deleteAgency": operators_only,
}


def _route(call: str) -> None:
    async def handler(request: Request) -> Response:
        return await _serve(request, call, carries_package=call == "sendEdoc")

    handler.__name__ = f"vxp_{call}"
    router.add_api_route(
        f"/{call}",
        handler,
        methods=["POST"],
        operation_id=f"vxp_{call}",
        summary=f"National SDK: {call} (docs/PROTOCOL.md, section 9)",
        response_class=Response,
    )
    # the SDK asks for GET on some calls: the same answer, one operation in the OpenAPI
    router.add_api_route(
        f"/{call}", handler, methods=["GET"], include_in_schema=False, response_class=Response
    )


for _call in CALLS:
    _route(_call)
