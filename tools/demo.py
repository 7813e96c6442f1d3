"""``make demo``: a development hub with two sample agencies, set up idempotently.

Runs the migrations, creates the development CA and the hub's key, and registers
000.00.00.G22 (Văn phòng Chính phủ) and 000.00.00.H41 (UBND tỉnh Nghệ An) with keys and
certificates issued by the development CA. Their credentials are kept (mode 0600) under
LIENTHONG_HOME/agencies/<OrganId>/credentials.json, so a second run finds them and changes
nothing.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from cryptography import x509
from rich.console import Console

from hub import home
from hub.config import Settings
from hub.db import DB, Q
from hub.db.migrate import migrate
from hub.registry import operators, pki, registry
from hub.session import open_session
from tools import demo_national

SAMPLE_AGENCIES = (
    ("000.00.00.G22", "Văn phòng Chính phủ"),
    ("000.00.00.H41", "UBND tỉnh Nghệ An"),
)


def sample_agencies(environ: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The two sample agencies, or others named in LIENTHONG_DEMO_AGENCIES
    (``id=name;id=name``) — tests use that so they never touch a developer's demo users."""
    value = environ.get("LIENTHONG_DEMO_AGENCIES", "").strip()
    if not value:
        return SAMPLE_AGENCIES
    pairs = [item.split("=", 1) for item in value.split(";") if item.strip()]
    return tuple((organ.strip(), name.strip()) for organ, name in pairs)


async def run(settings: Settings, *, once: bool, console: Console) -> None:
    agencies = await set_up(settings, console)
    await exchange(settings, agencies, once=once, console=console)


async def set_up(settings: Settings, console: Console) -> list[dict[str, str]]:
    """Database, development CA, the two agencies — whatever is missing; returns credentials."""
    changed = False
    report = await migrate(settings.database_url)
    if report.created_database or report.applied:
        changed = True
        console.print(
            f"database {report.database}: schema version {report.current_version}"
            + (" (created)" if report.created_database else "")
        )
    made = home.init_dev_ca(settings)
    async with open_session(settings) as session:
        trusted, _ = await registry.trust_ca(session.db, made.ca.cert, source="development")
        if made.created_ca or made.created_hub or trusted:
            changed = True
            console.print(f"development CA and hub key under {settings.home}")
        for organ_id, name in sample_agencies(os.environ):
            saved = settings.agencies_dir / organ_id / "credentials.json"
            if await session.db.fetchrow(Q.agency_get, organ_id) is not None:
                if saved.exists():
                    console.print(
                        f"agency {organ_id} ({name}) is registered; credentials in {saved}"
                    )
                    continue
                # registered by another checkout (or this one before its folder was removed):
                # its credentials are elsewhere, so this checkout issues its own
                credentials = await registry.reissue_agency(
                    session.db, session.management, settings, organ_id
                )
                home.write_private(
                    saved,
                    json.dumps(credentials.as_json(), ensure_ascii=False, indent=2).encode(),
                )
                changed = True
                console.print(
                    f"agency {organ_id} ({name}) was registered, but its credentials are not "
                    f"in {settings.home} (another checkout, or a removed folder, set it up): "
                    f"issued a new key and certificate and new broker, gateway and national-SDK "
                    f"credentials into {saved}; the earlier ones no longer work",
                    highlight=False,
                )
                continue
            credentials = await registry.add_agency(
                session.db,
                session.management,
                session.channel,
                settings,
                registry.AgencyRequest(organ_id=organ_id, name=name, issue=True),
            )
            home.write_private(
                saved, json.dumps(credentials.as_json(), ensure_ascii=False, indent=2).encode()
            )
            changed = True
            console.print(
                f"registered agency {organ_id} ({name}): RabbitMQ user {credentials.amqp_user}, "
                f"inboxes lienthong.inbox.{organ_id}[.urgent], key {credentials.key_path}; "
                f"credentials in {saved}"
            )
        if await demo_national.set_up(session, settings, console):
            changed = True
        if await demo_operator(session.db, settings, console):
            changed = True
    console.print("the hub is set up" if changed else "the hub was already set up: nothing changed")
    return [
        json.loads((settings.agencies_dir / organ / "credentials.json").read_text())
        for organ, _ in sample_agencies(os.environ)
    ]


OPERATOR_TOKEN = "demo-operator.token"
"""Under LIENTHONG_HOME: the demo operator's dashboard token (0600)."""


async def demo_operator(db: DB, settings: Settings, console: Console) -> bool:
    """An admin account for the dashboard, its token kept under LIENTHONG_HOME; ``True`` when
    one was made. An earlier checkout's ``demo`` (its token elsewhere) is left alone: this
    checkout gets ``demo-<4 hex>``."""
    saved = settings.home / OPERATOR_TOKEN
    if saved.exists():
        return False
    name = "demo"
    while await db.fetchrow(Q.operator_get, name) is not None:
        name = f"demo-{secrets.token_hex(2)}"
    made = await operators.add(db, name, "admin")
    home.write_private(saved, (made.token + "\n").encode())
    console.print(
        f"operator {made.name} (admin) for the dashboard; its token is in {saved}",
        highlight=False,
    )
    return True


def tiny_pdf(text: str) -> bytes:
    """A one-page PDF saying ``text`` (ASCII), enough for an attachment a viewer opens."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


async def exchange(
    settings: Settings, agencies: list[dict[str, str]], *, once: bool, console: Console
) -> None:
    """Start the hub; the first agency sends a dispatch through the SDK; the second reads it
    and answers 01 then 03 through the HTTP gateway; print the receipt and the timeline."""
    import asyncio
    import datetime as dt
    import signal
    import uuid
    from urllib.parse import quote

    import httpx

    from adapters.sdk import Attachment, DocumentSpec, Organization, StatusSpec, build_status
    from adapters.sdk.config import EndpointConfig
    from adapters.sdk.endpoint import Endpoint
    from adapters.sdk.items import Status
    from hub import home
    from hub.check.signing import sign_package
    from hub.server import ServeOptions, run_hub

    sender, recipient = agencies[0], agencies[1]
    base = f"http://{settings.http_host}:{settings.http_port}"
    stop = asyncio.Event()
    hub = asyncio.create_task(run_hub(settings, ServeOptions(http=True, concurrency=8), stop))
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            for _ in range(100):
                if hub.done():
                    hub.result()
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
            console.print(f"hub running: {base}  (health {base}/healthz, metrics {base}/metrics)")
            console.print(
                f"dashboard: {base}/ — sign in with the token in {settings.home / OPERATOR_TOKEN}",
                highlight=False,
            )

            credentials = settings.agencies_dir / sender["organ_id"] / "credentials.json"
            ca_path = home.ca_paths(settings)[1]
            config = EndpointConfig.from_credentials(
                credentials,
                host=settings.amqp.host,
                vhost="" if settings.amqp.vhost == "/" else settings.amqp.vhost,
                state_dir=settings.home / "sdk",
                trusted_ca_paths=(ca_path,),
            )
            today = dt.datetime.now(dt.UTC)
            number = uuid.uuid4().hex[:4].upper()
            document_id = f"{sender['organ_id']},{today:%Y/%m/%d},{number}/VPCP-KSTT"
            async with Endpoint.open(config) as endpoint:
                receipt = await endpoint.send(
                    DocumentSpec(
                        sender=Organization(organ_id=sender["organ_id"], name=sender["name"]),
                        recipients=[
                            Organization(organ_id=recipient["organ_id"], name=recipient["name"])
                        ],
                        document_id=document_id,
                        subject="V/v triển khai liên thông văn bản điện tử",
                        code_number=number,
                        code_notation="VPCP-KSTT",
                        content="Đề nghị UBND tỉnh triển khai kết nối trục liên thông văn bản.",
                        signer_name="Trần Văn A",
                        attachments=[
                            Attachment(
                                name=f"{number}-VPCP-KSTT.pdf",
                                content=tiny_pdf(f"Cong van {number}/VPCP-KSTT"),
                            )
                        ],
                    )
                )
                console.print(
                    f"[bold]{sender['organ_id']}[/] sent {document_id} through the SDK: "
                    f"receipt {receipt.outcome} — {receipt.detail}"
                )
                console.print(receipt.xml.decode()[:400] + " …", highlight=False, markup=False)

                # the province reads its inbox and answers over HTTP
                token = {"Authorization": f"Bearer {recipient['http_token']}"}
                listed = (await client.get("/api/v1/inbox", headers=token)).json()["messages"]
                arrived = next(
                    m for m in listed if m["type"] == "edoc" and m["document_id"] == document_id
                )
                body = (await client.get(arrived["href"], headers=token)).content
                await client.post(arrived["href"] + "/ack", headers=token)
                console.print(
                    f"[bold]{recipient['organ_id']}[/] took it from its inbox over HTTP "
                    f"({len(body)} bytes, signed by the sender)"
                )
                key = pki.load_private_key(Path(recipient["key_path"]).read_bytes())
                cert = x509.load_pem_x509_certificate(Path(recipient["cert_path"]).read_bytes())
                for code, words in (("01", "Đã đến"), ("03", "Đã tiếp nhận, vào sổ văn bản đến")):
                    status = sign_package(
                        build_status(
                            StatusSpec(
                                sender=Organization(organ_id=recipient["organ_id"]),
                                document_sender=sender["organ_id"],
                                document_id=document_id,
                                status_code=code,
                                description=words,
                                staff="Văn thư",
                            )
                        ),
                        key,
                        cert,
                    )
                    answer = await client.post(
                        "/api/v1/statuses",
                        content=status,
                        headers={**token, "Idempotency-Key": f"{document_id}-{code}"},
                    )
                    outcome = "accepted" if b"<Outcome>accepted" in answer.content else "rejected"
                    console.print(
                        f"[bold]{recipient['organ_id']}[/] answered {code} ({words}): {outcome}"
                    )
                seen = [i async for i in endpoint.inbox(idle_timeout=2) if isinstance(i, Status)]
                console.print(
                    f"[bold]{sender['organ_id']}[/] received statuses: "
                    + ", ".join(f"{s.code} from {s.author}" for s in seen)
                )
                await demo_national.exchange(settings, base, endpoint, sender, console)
            sender_token = {"Authorization": f"Bearer {sender['http_token']}"}
            timeline = (
                await client.get(
                    f"/api/v1/documents/{quote(document_id, safe='')}", headers=sender_token
                )
            ).json()
            console.print("[bold]timeline[/]")
            for event in timeline["documents"][0]["events"]:
                what = event.get("status") or event.get("kind") or ""
                who = event.get("by") or event.get("to") or ""
                console.print(
                    f"  {event['at'][:23]}  {event['event']:<9} {what:<30} {who}", highlight=False
                )
        if once:
            return
        console.print(f"the hub keeps running at {base} — Ctrl-C to stop")
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        stop.set()
        await asyncio.wait_for(hub, 30)
