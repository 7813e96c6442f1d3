"""The national SDK (VNPT SDKVXP) under a real JVM, as an agency system runs it (the driver of
:mod:`adapters.national_sdk`, compiled against ../shared/vxp-sdk/lib), and a Python client that
signs requests exactly as the SDK does (for what the SDK cannot be made to send, such as an
altered body)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from pathlib import Path

import pytest

from adapters import national_sdk
from adapters.national_sdk import Driver
from hub.vxp.auth import sdk_hex


def compile_driver(into: Path) -> Driver:
    try:
        return national_sdk.compile_driver(into)
    except national_sdk.Unavailable as missing:
        pytest.skip(f"national-SDK tests skipped: {missing}")


def without_placeholder(data: bytes) -> bytes:
    """The national tooling's placeholder ``<Signature>`` (no namespace, rsa-sha1) removed, as a
    system does before it signs for real."""
    return re.sub(rb"\s*<Signature>.*?</Signature>", b"", data, flags=re.S)


def sdk_headers(
    *,
    system_id: str,
    secret: str,
    values: dict[str, str],
    body: bytes | None = None,
    when: dt.datetime | None = None,
) -> dict[str, str]:
    """The headers the SDK sends (``VnptService.addXroadVnptHashHeader``)."""
    stamp = (when or dt.datetime.now()).strftime("%d%m%YT%H%M%S") + "+0123"
    signed = {"systemid": system_id, "timestamp": stamp, "Content-Type": "application/json"}
    if body is not None:
        signed["hash-file"] = sdk_hex(hashlib.sha256(body).digest())
        signed["Content-Type"] = "application/octet-stream"
    signed.update(values)
    sign_header = json.dumps(
        {f"XroadVnpt-{k}": v for k, v in signed.items()}, separators=(",", ":"), ensure_ascii=False
    )
    return {
        **{f"XroadVnpt-{k}": v for k, v in signed.items()},
        "XroadVnpt-sign-header-key": ";".join(signed),
        "XroadVnpt-sign-header": sign_header,
        "XroadVnpt-hash-header": hmac.new(
            secret.encode(), sign_header.encode(), hashlib.sha256
        ).hexdigest(),
        "XroadVnpt-version": "3.0.201608",
        "User-Agent": "JAVASDKAgent/1.0.0 XRoad/VPCP",
    }
