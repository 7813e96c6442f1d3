"""The Python SDK for agencies: build, sign, send and receive edXML packages."""

from __future__ import annotations

from adapters.sdk.packages import (
    Attachment,
    DocumentSpec,
    Organization,
    StatusSpec,
    build_document,
    build_status,
)
from hub.contract import ReceiverChange, Replacement

__all__ = [
    "Attachment",
    "DocumentSpec",
    "Organization",
    "ReceiverChange",
    "Replacement",
    "StatusSpec",
    "build_document",
    "build_status",
]
