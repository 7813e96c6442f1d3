"""The national SDK (VNPT SDKVXP) under a real JVM, as an agency system runs it: a small Java
driver (tests/vxp/VxpDriver.java) compiled against ../shared/vxp-sdk/lib, and a Python client
that signs requests exactly as the SDK does (for what the SDK cannot be made to send, such as
an altered body)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hub.vxp.auth import sdk_hex

SDK = Path(
    os.environ.get("LIENTHONG_VXP_SDK")
    or Path(__file__).resolve().parents[2] / "shared" / "vxp-sdk"
)
DRIVER = Path(__file__).parent / "vxp" / "VxpDriver.java"


@dataclass(frozen=True)
class Driver:
    classpath: str

    async def run(self, *args: str, zone: str | None = None) -> dict[str, Any]:
        """Run one driver command in a JVM (without blocking the hub in this event loop)."""
        options = [f"-Duser.timezone={zone}"] if zone else []
        process = await asyncio.create_subprocess_exec(
            "java",
            *options,
            "-cp",
            self.classpath,
            "VxpDriver",
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 120)
        text = out.decode("utf-8", "replace")
        for line in reversed(text.splitlines()):
            if line.startswith("RESULT "):
                found: dict[str, Any] = json.loads(line[len("RESULT ") :])
                return found
        raise AssertionError(
            f"the driver printed no result (exit {process.returncode}):\n{text[-3000:]}\n"
            f"{err.decode('utf-8', 'replace')[-3000:]}"
        )


def compile_driver(into: Path) -> Driver:
    if not (SDK / "lib").is_dir():
        pytest.skip(
            f"the national SDK's jars are not at {SDK}/lib (a user's clone without ../shared): "
            "set LIENTHONG_VXP_SDK to run the national-SDK tests"
        )
    if shutil.which("javac") is None or shutil.which("java") is None:
        pytest.skip("Java 17 (java and javac) is not installed: make test installs it")
    classpath = f"{SDK / 'lib'}/*"
    subprocess.run(
        ["javac", "-encoding", "UTF-8", "-cp", classpath, "-d", str(into), str(DRIVER)],
        check=True,
        capture_output=True,
    )
    return Driver(classpath=f"{classpath}{os.pathsep}{into}")


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
