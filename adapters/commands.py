"""Commands for agency users: ``lienthong send``, ``inbox``, ``status``, ``bridge folder``.

They act as an agency (``--as OrganId``) with the credentials that ``agency add --json``
printed, by default ``$LIENTHONG_HOME/agencies/<OrganId>/credentials.json``, and the broker
of ``LIENTHONG_AMQP_URL``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
import typer
from rich.console import Console
from rich.progress import Progress

from adapters.bridge import BridgeConfig, FolderBridge, kind_of
from adapters.sdk.config import EndpointConfig
from adapters.sdk.endpoint import Endpoint
from adapters.sdk.items import Document, Receipt, Status
from hub import config, home, logs
from hub.errors import HubError

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
bridge_app = typer.Typer(help="Bridges for systems that exchange files.", no_args_is_help=True)

As = Annotated[str, typer.Option("--as", help="act as this agency (OrganId)")]
CredentialsOption = Annotated[
    Path | None, typer.Option("--credentials", help="the JSON that `agency add --json` printed")
]


def endpoint_config(organ_id: str, credentials: Path | None, **options: object) -> EndpointConfig:
    settings = config.load()
    path = credentials or settings.agencies_dir / organ_id / "credentials.json"
    if not path.exists():
        raise HubError(
            f"no credentials for {organ_id} at {path}: pass --credentials FILE "
            "(the JSON that `lienthong agency add --json` printed)"
        )
    ca = home.ca_paths(settings)[1]
    parts = urlsplit(settings.amqp.url)  # its scheme (amqps), host, port and vhost
    broker = urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[-1]))
    return EndpointConfig.from_credentials(
        path,
        broker=broker,
        state_dir=settings.home / "sdk",
        trusted_ca_paths=(ca,) if ca.exists() else (),
        **options,  # type: ignore[arg-type]
    )


def _run(work: object) -> None:
    logs.configure("WARNING", quiet_drivers=True)
    try:
        asyncio.run(work)  # type: ignore[arg-type]
    except HubError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(1) from None
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        err.print(
            f"[bold red]error:[/] cannot read {exc.filename}: {exc.strerror}", highlight=False
        )
        raise typer.Exit(1) from None
    except (OSError, ConnectionError) as exc:
        err.print(f"[bold red]error:[/] cannot reach the hub's broker: {exc}", highlight=False)
        raise typer.Exit(1) from None


def _json(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


JsonOption = Annotated[bool, typer.Option("--json", help="print JSON")]


def send(
    files: Annotated[
        list[Path], typer.Argument(help="edXML packages (signed, or signed with your key)")
    ],
    as_: As,
    credentials: CredentialsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send packages and print each receipt (a progress bar for many files)."""
    results: list[tuple[Path, Receipt]] = []

    async def work() -> None:
        packages = [(path, path.read_bytes()) for path in files]  # every file, before sending
        async with Endpoint.open(endpoint_config(as_, credentials)) as endpoint:
            with Progress(console=err, transient=True, disable=len(files) < 3) as progress:
                task = progress.add_task("sending", total=len(files))
                for path, data in packages:
                    receipt = await endpoint.send(data, kind=kind_of(data))
                    results.append((path, receipt))
                    progress.advance(task)

    _run(work())
    if as_json:
        _json(
            [
                {
                    "file": str(path),
                    "message_id": r.message_id,
                    "document_id": r.document_id,
                    "outcome": r.outcome,
                    "code": r.code,
                    "detail": r.detail,
                }
                for path, r in results
            ]
        )
    for path, receipt in [] if as_json else results:
        code = f" {receipt.code}" if receipt.code else ""
        out.print(f"{path.name}: {receipt.outcome}{code} — {receipt.detail}", highlight=False)
    if any(not r.accepted for _, r in results):
        raise typer.Exit(1)


def inbox(
    as_: As,
    credentials: CredentialsOption = None,
    save: Annotated[
        Path | None,
        typer.Option("--save", help="also write each message into DIR/inbox/ (as the bridge)"),
    ] = None,
    wait: Annotated[float, typer.Option("--wait", help="stop after this many quiet seconds")] = 2.0,
    arrived: Annotated[
        bool, typer.Option("--arrived/--no-arrived", help="send 01 for new documents")
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """Take what waits in the agency's inbox (urgent first) and print it. What is printed is
    acknowledged — the hub will not deliver it again: keep it with --save DIR."""
    taken: list[dict[str, object]] = []

    async def work() -> None:
        async with Endpoint.open(
            endpoint_config(as_, credentials, auto_arrived=arrived)
        ) as endpoint:
            bridge = (
                FolderBridge(BridgeConfig(endpoint=endpoint.config, root=save)) if save else None
            )
            async for item in endpoint.inbox(idle_timeout=wait):
                if isinstance(item, Document):
                    mark = "URGENT " if item.urgent else ""
                    line = (
                        f"{mark}edoc    {item.message_id}  {item.document_id}  "
                        f"from {item.sender}  {item.subject or ''}"
                    )
                elif isinstance(item, Status):
                    line = (
                        f"status  {item.message_id}  {item.document_id}  "
                        f"{item.code} from {item.author}"
                    )
                else:
                    line = (
                        f"receipt {item.message_id}  {item.outcome} {item.code or ''} {item.detail}"
                    )
                if bridge is not None:
                    bridge.write_incoming(item)  # before it is acknowledged
                taken.append(_item_json(item))
                if not as_json:
                    out.print(line, highlight=False)

    _run(work())
    if as_json:
        _json(taken)
    kept = f"; saved in {save / 'inbox'}" if save else "; not saved (--save DIR keeps them)"
    err.print(
        f"{len(taken)} message(s) taken from the inbox of {as_} and acknowledged{kept}",
        highlight=False,
    )


def _item_json(item: Document | Status | Receipt) -> dict[str, object]:
    if isinstance(item, Document):
        return {
            "type": "edoc",
            "message_id": item.message_id,
            "document_id": item.document_id,
            "sender": item.sender,
            "subject": item.subject,
            "urgent": item.urgent,
            "verified": item.verified,
        }
    if isinstance(item, Status):
        return {
            "type": "status",
            "message_id": item.message_id,
            "document_id": item.document_id,
            "code": item.code,
            "author": item.author,
        }
    return {
        "type": "receipt",
        "message_id": item.message_id,
        "outcome": item.outcome,
        "code": item.code,
        "detail": item.detail,
    }


def status(
    document_id: Annotated[str, typer.Argument(help="the document's DocumentId")],
    code: Annotated[str, typer.Option("--code", help="01 02 03 04 05 06 13 15 16")],
    as_: As,
    sender: Annotated[
        str | None, typer.Option("--sender", help="the document's sender (looked up when omitted)")
    ] = None,
    description: Annotated[
        str | None, typer.Option("--description", help="e.g. the reason of a 02")
    ] = None,
    credentials: CredentialsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Report a processing status about a document."""

    async def work() -> None:
        cfg = endpoint_config(as_, credentials)
        owner = sender
        if owner is None:
            settings = config.load()
            token = json.loads(
                (credentials or settings.agencies_dir / as_ / "credentials.json").read_text()
            )["http_token"]
            base = f"http://{settings.http_host}:{settings.http_port}"
            url = f"{base}/api/v1/documents/{quote(document_id, safe='')}"
            try:
                async with httpx.AsyncClient(timeout=10) as client:
                    headers = {"Authorization": f"Bearer {token}"}
                    response = await client.get(url, headers=headers)
            except httpx.HTTPError as exc:
                raise HubError(
                    f"cannot reach the hub's HTTP API at {base} ({type(exc).__name__}) to look "
                    "up the document's sender: check LIENTHONG_HTTP, or pass --sender"
                ) from exc
            if response.status_code == 404:
                raise HubError(f"document {document_id!r} not found for {as_}; pass --sender")
            if response.status_code in (401, 403):
                raise HubError(
                    f"the hub refused {as_}'s gateway token ({response.status_code}): "
                    "check the credentials, or pass --sender"
                )
            if response.status_code != 200:
                raise HubError(
                    f"the hub answered {response.status_code} looking up {document_id!r}: "
                    f"{response.text[:200]}"
                )
            owner = response.json()["documents"][0]["sender"]
        async with Endpoint.open(cfg) as endpoint:
            receipt = await endpoint.report((owner, document_id), code, description=description)
        if as_json:
            _json(
                {
                    "message_id": receipt.message_id,
                    "outcome": receipt.outcome,
                    "code": receipt.code,
                    "detail": receipt.detail,
                }
            )
        else:
            out.print(
                f"{code}: {receipt.outcome} {receipt.code or ''} — {receipt.detail}",
                highlight=False,
            )
        if not receipt.accepted:
            raise typer.Exit(1)

    _run(work())


@bridge_app.command("folder")
def bridge_folder(
    agency: Annotated[str, typer.Option("--as", "--agency", help="act as this agency (OrganId)")],
    directory: Annotated[Path, typer.Option("--dir", help="the folder with outbox/, sent/, …")],
    credentials: CredentialsOption = None,
    once: Annotated[
        bool, typer.Option("--once", help="send what waits, read what waits, exit")
    ] = False,
) -> None:
    """Exchange files: outbox → hub → sent/ or rejected/; hub → inbox/."""
    logs.configure("INFO")

    async def work() -> None:
        bridge = FolderBridge(
            BridgeConfig(endpoint=endpoint_config(agency, credentials), root=directory)
        )
        await bridge.run(once=once)

    try:
        asyncio.run(work())
    except HubError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        sys.exit(0)


def register(app: typer.Typer) -> None:
    app.command("send")(send)
    app.command("inbox")(inbox)
    app.command("status")(status)
    app.add_typer(bridge_app, name="bridge")
