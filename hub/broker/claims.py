"""Claim checks (contract, version 2, "Large packages"): a package larger than
``LIENTHONG_INLINE_MAX_BYTES`` goes into an inbox as a message with an empty body and three
headers — where to fetch it (``x-body-url``, on the hub, with the recipient system's token), its
SHA-256 and its size — instead of its bytes. The bytes are the ones the hub already keeps once
per package (``package.body`` in PostgreSQL, shared by every hub machine and replicated to the
standby), so nothing is stored twice and any hub serves the fetch.

Pure: what the publisher puts on such a message, what a reader makes of one, and the check of
what it fetched. The SDK uses the same (through :mod:`hub.contract`)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from hub.broker.names import BODY_SHA256_HEADER, BODY_SIZE_HEADER, BODY_URL_HEADER

BODIES_PATH = "/api/v1/bodies/"
"""Where the hub serves a claimed body: this and the delivery's message id (URL-encoded)."""

_HEX64 = re.compile(r"[0-9a-f]{64}")


class ClaimError(ValueError):
    """A claim check that cannot be honoured: bad headers, or fetched bytes that do not match."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Claim:
    """A reference to a package's bytes, carried instead of them."""

    url: str
    sha256: str
    """Hex, lower case."""
    size: int

    def headers(self) -> dict[str, str | int]:
        return {
            BODY_URL_HEADER: self.url,
            BODY_SHA256_HEADER: self.sha256,
            BODY_SIZE_HEADER: self.size,
        }

    @classmethod
    def of(cls, headers: Mapping[str, Any] | None) -> Claim | None:
        """The claim an inbox message carries, or None for an inline one."""
        headers = headers or {}
        url = headers.get(BODY_URL_HEADER)
        if url is None:
            return None
        digest = str(headers.get(BODY_SHA256_HEADER, "")).lower()
        try:
            size = int(headers.get(BODY_SIZE_HEADER, ""))
        except (TypeError, ValueError):
            size = -1
        if (
            not _HEX64.fullmatch(digest)
            or size < 0
            or not str(url).startswith(("http://", "https://"))
        ):
            raise ClaimError(
                f"a claim check with bad headers ({BODY_URL_HEADER}={str(url)[:200]!r}, "
                f"{BODY_SHA256_HEADER}={digest[:80]!r}, {BODY_SIZE_HEADER}={size})"
            )
        return cls(url=str(url), sha256=digest, size=size)


class Tally:
    """Counts and hashes fetched bytes as they come, to check them against the claim."""

    def __init__(self, claim: Claim) -> None:
        self._claim = claim
        self._hash = hashlib.sha256()
        self.size = 0

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self._claim.size:
            raise ClaimError(
                f"{self._claim.url} sent more than the {self._claim.size} bytes claimed"
            )
        self._hash.update(chunk)

    def check(self) -> None:
        """Raise :class:`ClaimError` unless exactly the claimed bytes came."""
        if self.size != self._claim.size:
            raise ClaimError(
                f"{self._claim.url} sent {self.size} bytes; the claim says {self._claim.size}"
            )
        if self._hash.hexdigest() != self._claim.sha256:
            raise ClaimError(
                f"the bytes fetched from {self._claim.url} do not have the claimed SHA-256"
            )


@dataclass(frozen=True, kw_only=True, slots=True)
class ClaimChecks:
    """The publisher's rule: which deliveries travel as a claim, and where it points."""

    inline_max: int
    base_url: str
    """The hub's HTTP address as recipients reach it (``LIENTHONG_PUBLIC_URL``)."""

    def claim_for(self, *, kind: str, message_id: str, size: int, digest: bytes) -> Claim | None:
        """``digest``: the package's SHA-256, computed once when it was submitted. Receipts
        always go inline (they are small and signed by the hub)."""
        if kind == "receipt" or size <= self.inline_max:
            return None
        return Claim(
            url=self.base_url + BODIES_PATH + quote(message_id, safe=""),
            sha256=digest.hex(),
            size=size,
        )
