"""Errors as RFC 9457 problem details, carrying the contract's `code` where one applies."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM = "application/problem+json"


class Problem(Exception):
    def __init__(self, status: int, title: str, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.code = code


def body(
    status: int, title: str, detail: str, instance: str, code: str | None = None
) -> dict[str, object]:
    result: dict[str, object] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if code is not None:
        result["code"] = code
    return result


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def problem(request: Request, exc: Problem) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(
            body(exc.status, exc.title, exc.detail, request.url.path, exc.code),
            status_code=exc.status,
            media_type=PROBLEM,
            headers=headers,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            body(exc.status_code, str(exc.detail), str(exc.detail), request.url.path),
            status_code=exc.status_code,
            media_type=PROBLEM,
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            body(422, "Invalid request", str(exc.errors())[:1000], request.url.path),
            status_code=422,
            media_type=PROBLEM,
        )
