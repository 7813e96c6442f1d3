"""FastAPI application of a running hub."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from aio_pika.abc import AbstractRobustConnection
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles

from hub import __version__, metrics
from hub.db import Q
from hub.http import bodies, directory, documents, gateway, oversight, problems, vxp
from hub.record.records import Recorded
from hub.route.pipeline import Pipeline
from hub.vxp import auth
from hub.vxp.secrets import SecretBox

STATIC = Path(__file__).parent / "static"
"""The dashboard: plain HTML, CSS and JavaScript shipped in the package (no network at run time)."""

SECURITY_HEADERS = {
    # the dashboard loads only its own script and style, runs no inline code, and may not be
    # framed (clickjacking of the admins' requeue and suspend buttons)
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_OWN_POLICY = ("/docs", "/redoc")
"""FastAPI's interactive API pages, which load their own script from elsewhere."""


@dataclass(kw_only=True)
class HubState:
    pipeline: Pipeline
    connection: AbstractRobustConnection
    secrets: SecretBox
    """Opens the national-SDK secrets (:mod:`hub.http.vxp`)."""
    vxp_zone: dt.tzinfo = field(default_factory=lambda: auth.zone_named(None))
    """The zone the national SDK's clocks are read in (``LIENTHONG_VXP_TIMEZONE``)."""
    in_flight: dict[tuple[str, str], asyncio.Task[Recorded]] = field(default_factory=dict)
    """Gateway submissions being processed, by (agency, message_id)."""
    hub_intermediates: tuple[x509.Certificate, ...] = ()
    """The CAs between the hub's certificate and its root (served with it)."""

    def broker_connected(self) -> bool:
        return not self.connection.is_closed


def create_app(state: HubState) -> FastAPI:
    app = FastAPI(
        title="lienthong",
        version=__version__,
        description="National electronic document interchange hub (Trục liên thông văn bản). "
        "See docs/PROTOCOL.md.",
    )
    app.state.hub = state

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if not request.url.path.startswith(_OWN_POLICY):
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
        return response

    problems.install(app)
    app.include_router(documents.router)
    app.include_router(directory.router)
    app.include_router(gateway.router)
    app.include_router(bodies.router)
    app.include_router(vxp.router)
    app.include_router(oversight.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def dashboard() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    @app.get("/healthz", tags=["operations"], summary="Is the hub working?")
    async def healthz() -> JSONResponse:
        database = True
        try:
            await state.pipeline.pool.fetchval(Q.ping)
        except Exception:
            database = False
        broker = state.broker_connected()
        healthy = database and broker
        return JSONResponse(
            {"status": "ok" if healthy else "degraded", "database": database, "broker": broker},
            status_code=200 if healthy else 503,
        )

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics")
    async def prometheus() -> Response:
        text, media_type = metrics.exposition()  # every worker process's, added up
        return Response(text, media_type=media_type)

    @app.get(
        "/api/v1/hub/certificate",
        tags=["hub"],
        summary="The hub's receipt-signing certificate (PEM)",
        response_class=PlainTextResponse,
    )
    async def certificate() -> PlainTextResponse:
        chain = (state.pipeline.signer.cert, *state.hub_intermediates)
        pem = "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in chain)
        return PlainTextResponse(pem, media_type="application/x-pem-file")

    return app
