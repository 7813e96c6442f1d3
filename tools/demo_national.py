"""The demo's national-SDK part: a system that uses VNPT's Java SDK (SDKVXP) sends a dispatch,
built with the national edXML library, to the Python SDK's agency, and reads its statuses back
(``make demo``, when Java and the SDK's jars are present).

Set up idempotently: the system ``vxp.demo`` hosting ``000.00.00.H14`` (UBND tỉnh Cao Bằng),
or those named in ``LIENTHONG_DEMO_VXP`` (``system=OrganId=name``; tests use that). Their
credentials are kept (mode 0600) under LIENTHONG_HOME/systems/<SystemId>/credentials.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography import x509
from rich.console import Console

from adapters import national_sdk
from hub import home
from hub.check.signing import sign_package
from hub.config import Settings
from hub.db import Q
from hub.registry import pki, registry, systems
from hub.session import Session

DEMO_SYSTEM = ("vxp.demo", "000.00.00.H14", "UBND tỉnh Cao Bằng")


def demo_system(environ: Mapping[str, str]) -> tuple[str, str, str]:
    value = environ.get("LIENTHONG_DEMO_VXP", "").strip()
    if not value:
        return DEMO_SYSTEM
    system_id, organ_id, name = (part.strip() for part in value.split("=", 2))
    return system_id, organ_id, name


def credentials_path(settings: Settings, system_id: str) -> Path:
    return settings.home / "systems" / system_id / "credentials.json"


async def set_up(session: Session, settings: Settings, console: Console) -> bool:
    """The national-SDK system and the agency it hosts; True when something was made."""
    system_id, organ_id, name = demo_system(os.environ)
    saved = credentials_path(settings, system_id)
    if await session.db.fetchrow(Q.system_get, system_id) is not None:
        if saved.exists():
            console.print(f"national-SDK system {system_id} is registered; credentials in {saved}")
            return False
        await _reissue(session, settings, system_id, organ_id, saved)
        console.print(
            f"national-SDK system {system_id} was registered, but its credentials are not in "
            f"{settings.home}: issued new ones (and a new key for {organ_id}) into {saved}; "
            "the earlier ones no longer work",
            highlight=False,
        )
        return True
    async with session.db.transaction():
        made = await systems.add_system(
            session.db,
            session.management,
            session.channel,
            settings,
            system_id=system_id,
            name=f"Nền tảng dùng chung ({name})",
        )
        agency = await registry.add_agency(
            session.db,
            session.management,
            session.channel,
            settings,
            registry.AgencyRequest(organ_id=organ_id, name=name, issue=True, system=system_id),
        )
    home.write_private(
        saved,
        json.dumps(
            {**made.as_json(), "agency": agency.as_json()}, ensure_ascii=False, indent=2
        ).encode(),
    )
    console.print(
        f"registered national-SDK system {system_id} hosting {organ_id} ({name}); "
        f"credentials (its SDK secret) in {saved}"
    )
    return True


async def _reissue(
    session: Session, settings: Settings, system_id: str, organ_id: str, saved: Path
) -> None:
    key_path, cert_path, pem = registry.issue_into_home(settings, organ_id, organ_id)
    async with session.db.transaction():
        await registry.add_certificate(session.db, organ_id, pem)
        access = await systems.reset_access(session.db, session.management, settings, system_id)
    agency = {"organ_id": organ_id, "key_path": str(key_path), "cert_path": str(cert_path)}
    home.write_private(
        saved, json.dumps({**access.as_json(), "agency": agency}, ensure_ascii=False).encode()
    )


async def exchange(
    settings: Settings, base: str, endpoint: Any, python_agency: Mapping[str, str], console: Console
) -> None:
    """The Java SDK sends to the Python SDK's agency; the Python SDK answers 01 (automatically)
    and 03; the Java SDK lists the statuses and its sent list."""
    from datetime import date

    from adapters.sdk.items import Document

    try:
        driver = national_sdk.compile_driver(settings.home / "vxp-driver")
    except national_sdk.Unavailable as missing:
        console.print(f"[yellow]national SDK part skipped:[/] {missing}")
        return
    system_id, organ_id, _ = demo_system(os.environ)
    kept = credentials_path(settings, system_id)
    if not kept.exists():
        console.print(
            f"[yellow]national SDK part skipped:[/] the credentials of {system_id} are not at "
            f"{kept} (its secret is shown once; `lienthong system secret rotate {system_id}`)"
        )
        return
    saved = json.loads(kept.read_text())
    sdk = [f"{base}/vxp", system_id, saved["vxp_secret"]]
    agency = saved["agency"]
    folder = settings.home / "vxp-demo"
    folder.mkdir(parents=True, exist_ok=True)
    document_id = f"{organ_id},{date.today():%Y/%m/%d},{os.urandom(2).hex().upper()}/UBND-VP"
    built = await driver.run(
        "build-edoc", str(folder), organ_id, python_agency["organ_id"], document_id,
        "V/v phối hợp liên thông văn bản", "0",
    )  # fmt: skip
    path = Path(built["path"])
    key = pki.load_private_key(Path(agency["key_path"]).read_bytes())
    cert = x509.load_pem_x509_certificate(Path(agency["cert_path"]).read_bytes())
    unsigned = path.read_bytes()
    start = unsigned.find(b"<Signature>")
    end = unsigned.find(b"</Signature>")
    if start != -1 and end != -1:  # the national library's placeholder, replaced by a signature
        unsigned = unsigned[:start] + unsigned[end + len(b"</Signature>") :]
    path.write_bytes(sign_package(unsigned, key, cert))
    sent = await driver.run("send", *sdk, organ_id, "edoc", str(path))
    console.print(
        f"[bold]{organ_id}[/] (national SDK, Java, system {system_id}) sent {document_id}: "
        f"{sent['status']} {sent['errorCode']} — {sent['errorDesc']}"
    )
    async for item in endpoint.inbox(idle_timeout=3):
        if isinstance(item, Document) and item.document_id == document_id:
            console.print(
                f"[bold]{python_agency['organ_id']}[/] (Python SDK) received it "
                f"(signature verified: {item.verified}) and answered 01 automatically"
            )
            await endpoint.report(item, "03", description="Đã tiếp nhận, vào sổ văn bản đến")
            console.print(f"[bold]{python_agency['organ_id']}[/] answered 03")
            break
    for _ in range(20):
        statuses = await driver.run("list", *sdk, "status")
        if len(statuses.get("items") or []) >= 2:
            break
        await asyncio.sleep(0.5)
    for item in statuses.get("items") or []:
        got = await driver.run("get", *sdk, item["id"], str(folder / "received"))
        found = re.search(r"StatusCode>\s*(\d{2})\s*<", Path(got["filePath"]).read_text("utf-8"))
        shown = found.group(1) if found else "?"
        await driver.run("update", *sdk, item["id"], "done")
        console.print(
            f"[bold]{organ_id}[/] (national SDK) received status {shown} from {item['from']}"
        )
    directory = await driver.run("agencies", *sdk)
    console.print(
        f"[bold]{organ_id}[/] (national SDK) getAgenciesList: {directory['status']}, "
        f"{len(directory.get('items') or [])} agencies in the hub's directory"
    )
    mine = await driver.run("sent", *sdk, sent.get("docId") or "")
    for row in mine.get("items") or []:
        console.print(
            f"  getSentEdocList: to {row['toCode']} sendStatus {row['sendStatus']}, "
            f"receiveStatus {row['receiveStatus']} ({row['receiveStatusDesc']})",
            highlight=False,
        )
