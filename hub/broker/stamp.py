"""The hub's stamp on the headers it sets itself, so it never trusts one it did not set.

Inside the hub a submission travels with headers naming its submitter and kind
(``x-lienthong-submitter``, ``x-lienthong-kind``). Triage takes them from what the broker
checked (``user_id``, the routing key) and drops every header the publisher sent. But a message
can also reach ``lienthong.dead`` with the publisher's own headers still on it (RabbitMQ
dead-letters a submission that ingress redelivered too often, headers and all), and an
operator's requeue would then believe a forged ``x-lienthong-submitter``. So the hub stamps the
values it sets: an HMAC-SHA256 over message id, submitter, kind and body size, keyed with a
secret derived from the hub's signing key (every hub process and machine sharing that identity
computes the same key; nobody outside holds it). A value without a valid stamp is treated as
the publisher's claim, which the hub does not believe.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization

from hub.broker import names
from hub.registry.pki import PrivateKey

STAMP_HEADER = "x-lienthong-stamp"
_PREFIX = "x-lienthong-"


@dataclass(frozen=True, kw_only=True, slots=True)
class Vouched:
    """Who submitted a message and as what, as the hub itself established."""

    submitter: str
    kind: str


@dataclass(frozen=True, slots=True)
class Stamper:
    key: bytes

    @classmethod
    def for_hub(cls, hub_key: PrivateKey) -> Stamper:
        der = hub_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cls(hashlib.sha256(b"lienthong header stamp\x00" + der).digest())

    def _mac(self, message_id: str, submitter: str, kind: str, size: int) -> str:
        text = "\x00".join((message_id, submitter, kind, str(size)))
        return hmac.new(self.key, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def stamp(self, *, message_id: str, submitter: str, kind: str, size: int) -> dict[str, Any]:
        """The hub's headers for a submission, stamped."""
        return {
            names.SUBMITTER_HEADER: submitter,
            names.KIND_HEADER: kind,
            STAMP_HEADER: self._mac(message_id, submitter, kind, size),
        }

    def vouched(self, headers: Mapping[str, Any], *, message_id: str, size: int) -> Vouched | None:
        """Submitter and kind if the hub stamped them for this message, else None."""
        submitter = headers.get(names.SUBMITTER_HEADER)
        kind = headers.get(names.KIND_HEADER)
        stamp = headers.get(STAMP_HEADER)
        if not (isinstance(submitter, str) and isinstance(kind, str) and isinstance(stamp, str)):
            return None
        if not hmac.compare_digest(stamp, self._mac(message_id, submitter, kind, size)):
            return None
        return Vouched(submitter=submitter, kind=kind)


def without_ours(headers: Mapping[str, Any] | None) -> dict[str, Any]:
    """A publisher's headers less every ``x-lienthong-*`` one (those only the hub may set)."""
    return {k: v for k, v in (headers or {}).items() if not k.lower().startswith(_PREFIX)}
