"""One error tree for the hub.

Every refusal of a package is a :class:`PackageRejected` carrying one of the contract's
stable codes (``docs/PROTOCOL.md``) and a message a person can act on. Everything that is
not about a package (a wrong setting, a service that cannot be reached, an operator's wrong
command) is a :class:`HubError` of another branch. Driver exceptions are translated once, at
the edge that calls the driver, keeping ``from exc``.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Code(StrEnum):
    """The contract's error codes (``Receipt/Code``). These keep their meaning forever."""

    XML_MALFORMED = "XML_MALFORMED"
    XML_FORBIDDEN = "XML_FORBIDDEN"
    TOO_LARGE = "TOO_LARGE"
    SCHEMA_INVALID = "SCHEMA_INVALID"
    SIGNATURE_MISSING = "SIGNATURE_MISSING"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    ALGORITHM_WEAK = "ALGORITHM_WEAK"
    CERT_UNTRUSTED = "CERT_UNTRUSTED"
    CERT_EXPIRED = "CERT_EXPIRED"
    CERT_REVOKED = "CERT_REVOKED"
    SENDER_MISMATCH = "SENDER_MISMATCH"
    SENDER_SUSPENDED = "SENDER_SUSPENDED"
    RECIPIENT_UNKNOWN = "RECIPIENT_UNKNOWN"
    RECIPIENT_SUSPENDED = "RECIPIENT_SUSPENDED"
    REFERENCE_UNKNOWN = "REFERENCE_UNKNOWN"
    DUPLICATE_DOCUMENT = "DUPLICATE_DOCUMENT"
    STATUS_INVALID = "STATUS_INVALID"
    SENDER_CLOSED = "SENDER_CLOSED"
    """Version 2: the sending OrganId was closed by an identifier change."""


class HubError(Exception):
    """Root of every error the hub raises on purpose."""


class ConfigError(HubError):
    """A setting is missing or wrong. The message says which and how to fix it."""


class ServiceUnavailable(HubError):
    """RabbitMQ, its management API or PostgreSQL cannot be reached or refused us."""


class BrokerUnavailable(ServiceUnavailable):
    """Publishing failed: the submission must be redelivered, not acknowledged."""


class BrokerLost(ServiceUnavailable):
    """The hub's connection to RabbitMQ closed: its broker side starts again."""


class Unroutable(HubError):
    """No inbox is bound for the recipient (not a registered agency or system)."""


class RegistryError(HubError):
    """An operator's registry command cannot be carried out (unknown agency, bad id …)."""


class EvidenceError(HubError):
    """An evidence bundle cannot be made (unknown document, nothing sealed)."""


class RetentionError(HubError):
    """A package's bytes could not be archived as recorded (written, read back, digest)."""


class BackupError(HubError):
    """A backup cannot be taken, or restored (a tool failed, a file does not match, the target
    is not empty)."""


DETAIL_LIMIT = 1000
"""A receipt's Detail is at most this many characters (it may quote what a package holds)."""
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def readable(text: str, limit: int = DETAIL_LIMIT) -> str:
    """``text`` as it may go into a receipt or a log: characters XML cannot hold replaced
    (a control character in a certificate's name, say), at most ``limit`` characters."""
    text = _NOT_XML.sub("\ufffd", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class PackageRejected(HubError):
    """A submission is refused with a contract code; the message goes into the receipt
    (bounded and made XML-safe by :func:`readable`)."""

    def __init__(self, code: Code, detail: str) -> None:
        detail = readable(detail)
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class CertificateRefused(RegistryError):
    """A certificate cannot be registered or trusted; ``code`` says why in contract terms."""

    def __init__(self, code: Code, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
