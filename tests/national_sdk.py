"""The national SDK (VNPT SDKVXP) under a real JVM, as an agency system runs it (the driver of
:mod:`adapters.national_sdk`, compiled against ../shared/vxp-sdk/lib), and a Python client that
signs requests exactly as the SDK does (for what the SDK cannot be made to send, such as an
altered body)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from adapters import national_sdk
from adapters.national_sdk import Driver
from hub.vxp.auth import client_headers


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
    return client_headers(
        system_id=system_id,
        secret=secret,
        values=values,
        body=body,
        when=when or dt.datetime.now(),
    )
