"""The national SDK (VNPT ``SDKVXP``, Java) as an agency system runs it, for lienthong's tests
and demo: ``VxpDriver.java`` is compiled against the SDK's own jars and run under Java 17, one
JVM per command (send, list, get, download, update, sent, count, agencies, replay; build-edoc and
build-status with the national edXML library). Each prints ``RESULT <json>`` last.

The jars are not shipped with lienthong: they are found at ``LIENTHONG_VXP_SDK`` or, in a
checkout beside ``shared/``, at ``../shared/vxp-sdk``.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SOURCE = Path(__file__).with_name("VxpDriver.java")


class Unavailable(Exception):
    """The national SDK cannot run here; the message says why and what to do."""


def sdk_home(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    named = env.get("LIENTHONG_VXP_SDK", "").strip()
    if named:
        return Path(named)
    return Path(__file__).resolve().parents[3] / "shared" / "vxp-sdk"


@dataclass(frozen=True)
class Driver:
    classpath: str

    async def run(self, *args: str, zone: str | None = None) -> dict[str, Any]:
        """Run one command in a JVM, without blocking the event loop (a hub may run in it)."""
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
        raise RuntimeError(
            f"the national-SDK driver printed no result (exit {process.returncode}):\n"
            f"{text[-3000:]}\n{err.decode('utf-8', 'replace')[-3000:]}"
        )


def compile_driver(into: Path, sdk: Path | None = None) -> Driver:
    """Compile the driver into ``into``; :class:`Unavailable` when the jars or Java are missing."""
    sdk = sdk or sdk_home()
    if not (sdk / "lib").is_dir():
        raise Unavailable(
            f"the national SDK's jars are not at {sdk}/lib (set LIENTHONG_VXP_SDK to the folder "
            "holding lib/SDKVXP-*.jar)"
        )
    if shutil.which("javac") is None or shutil.which("java") is None:
        raise Unavailable("Java 17 (java and javac) is not installed (make test installs it)")
    classpath = f"{sdk / 'lib'}/*"
    into.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["javac", "-encoding", "UTF-8", "-cp", classpath, "-d", str(into), str(SOURCE)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise Unavailable(f"the driver does not compile against {sdk}/lib: {done.stderr[-2000:]}")
    return Driver(classpath=f"{classpath}{os.pathsep}{into}")
