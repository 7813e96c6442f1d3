"""Fetching a claim check's bytes (contract, version 2, "Large packages"): an inbox message with
an empty body and ``x-body-url``/``x-body-sha256``/``x-body-size`` is a package too large to
travel through the broker; the SDK fetches it from the hub with the system's gateway token,
checks its size and SHA-256 as the bytes stream in, and hands the application the package as if
it had come inline."""

from __future__ import annotations

import asyncio

import httpx
from aio_pika.abc import AbstractIncomingMessage

from hub.contract import Claim, ClaimError, Tally

ATTEMPTS = 4
"""Tries for a fetch that fails on the way (no answer, a 5xx): 0.5, 1, 2 s apart."""


class BodyUnavailable(ClaimError):
    """The claimed bytes could not be fetched; the message stays in the inbox (it is handed
    back to the broker), and ``inbox()`` gives it again later."""


async def body_of(message: AbstractIncomingMessage, token: str | None) -> bytes:
    """An inbox message's package: its own body, or a claim check's fetched bytes."""
    claim = Claim.of(message.headers)
    return message.body if claim is None else await fetch(claim, token)


async def fetch(claim: Claim, token: str | None, *, timeout: float = 60.0) -> bytes:
    """The claimed package, byte for byte, or :class:`BodyUnavailable` /
    :class:`ClaimError` (bytes that are not the ones claimed)."""
    if not token:
        raise BodyUnavailable(
            f"a package of {claim.size} bytes came as a claim check ({claim.url}), and this "
            "endpoint has no gateway token to fetch it: give EndpointConfig.http_token (the "
            "http_token of the credentials file)"
        )
    delay = 0.5
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await _fetch_once(claim, token, timeout=timeout)
        except (httpx.TransportError, _ServerError) as exc:
            if attempt == ATTEMPTS:
                raise BodyUnavailable(
                    f"could not fetch {claim.url} after {ATTEMPTS} tries: {exc}"
                ) from exc
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


class _ServerError(Exception):
    pass


async def _fetch_once(claim: Claim, token: str, *, timeout: float) -> bytes:
    tally = Tally(claim)
    body = bytearray()
    async with (
        httpx.AsyncClient(timeout=timeout) as client,
        client.stream("GET", claim.url, headers={"Authorization": f"Bearer {token}"}) as answer,
    ):
        if answer.status_code >= 500:
            raise _ServerError(f"{claim.url} answered {answer.status_code}")
        if answer.status_code != 200:
            text = (await answer.aread())[:300].decode("utf-8", "replace")
            raise BodyUnavailable(f"{claim.url} answered {answer.status_code}: {text}")
        async for chunk in answer.aiter_bytes(1024 * 1024):
            tally.add(chunk)
            body += chunk
    tally.check()
    return bytes(body)
