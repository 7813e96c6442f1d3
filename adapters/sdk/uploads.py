"""Sending a large package over the hub's HTTP gateway instead of the broker: a package larger
than ``EndpointConfig.upload_over_bytes`` is ``POST``ed to ``/api/v1/documents`` (or
``/statuses``) with the system's gateway token and its ``message_id`` as the
``Idempotency-Key`` — the same submission, by the same system, as over AMQP (the hub checks it
the same way and sends its receipt to the same inbox). Large messages so stay out of the
broker's replicated queues, whose size limit (RabbitMQ's ``max_message_size``) they could pass."""

from __future__ import annotations

import asyncio

import httpx

from adapters.sdk.config import EndpointConfig

ATTEMPTS = 4


class UploadFailed(RuntimeError):
    """The hub did not take the upload (it says why); nothing was submitted."""


async def upload(config: EndpointConfig, body: bytes, *, kind: str, message_id: str) -> None:
    """Submit ``body`` over HTTP; returns once the hub has it (200 with its receipt, or 202
    while it decides). Idempotent: a retry after a lost answer is the same submission."""
    assert config.hub_url is not None
    if not config.http_token:
        raise UploadFailed(
            f"a package of {len(body)} bytes is sent over HTTP (over upload_over_bytes) and "
            "this endpoint has no gateway token: give EndpointConfig.http_token"
        )
    route = "/api/v1/statuses" if kind == "status" else "/api/v1/documents"
    headers = {
        "Authorization": f"Bearer {config.http_token}",
        "Idempotency-Key": message_id,
        "Content-Type": "application/xml",
    }
    delay = 0.5
    async with httpx.AsyncClient(base_url=config.hub_url.rstrip("/"), timeout=300) as client:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                answer = await client.post(route, content=body, headers=headers)
            except httpx.TransportError as exc:
                if attempt == ATTEMPTS:
                    raise UploadFailed(f"could not reach {config.hub_url}: {exc!r}") from exc
            else:
                if answer.status_code in (200, 202):
                    return
                if answer.status_code < 500 or attempt == ATTEMPTS:
                    raise UploadFailed(
                        f"{config.hub_url}{route} answered {answer.status_code}: "
                        f"{answer.text[:300]}"
                    )
            await asyncio.sleep(delay)
            delay *= 2
