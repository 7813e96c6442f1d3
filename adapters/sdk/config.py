"""``EndpointConfig``: what an :class:`adapters.sdk.endpoint.Endpoint` connects with — the
broker URL and credentials, the keys it signs with, the CAs it trusts, and the hub's HTTP side
for packages too large for the broker (claim checks in, uploads out)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

UPLOAD_OVER_BYTES = 8 * 1024 * 1024
"""Packages larger than this go to the hub over HTTP when ``hub_url`` is set (the hub's own
LIENTHONG_INLINE_MAX_BYTES by default): large messages stay out of the broker's queues."""


@dataclass(frozen=True, kw_only=True, slots=True)
class EndpointConfig:
    organ_id: str
    """The agency this endpoint speaks for by default (statuses, ``send`` without a sender)."""
    amqp_url: str
    key_path: Path | None = None
    cert_path: Path | None = None
    state_dir: Path = Path(".lienthong-sdk")
    trusted_ca_paths: tuple[Path, ...] = ()
    auto_arrived: bool = True
    """Send 01 (đã đến) when a new document is handed to the application."""
    receipt_timeout: float = 30.0
    system_id: str | None = None
    """The connected system (its broker user and inboxes); None: the agency is its own system."""
    agency_keys: Mapping[str, tuple[Path, Path]] = field(default_factory=dict)
    """Other agencies the system hosts: OrganId → (key, certificate) to sign their packages."""
    http_token: str | None = field(default=None, repr=False)
    """The system's gateway token: fetches the packages too large to come inline (claim
    checks, contract version 2), and uploads the large ones it sends (``hub_url``)."""
    hub_url: str | None = None
    """The hub's HTTP address (e.g. ``https://truc.example.gov.vn``): a package larger than
    ``upload_over_bytes`` is sent there (the gateway, ``POST /api/v1/documents``) instead of
    through the broker; its receipt still comes to the inbox. None: everything over AMQP."""
    upload_over_bytes: int = UPLOAD_OVER_BYTES

    @property
    def system(self) -> str:
        return self.system_id or self.organ_id

    @classmethod
    def from_credentials(
        cls,
        path: Path | str,
        *,
        broker: str | None = None,
        host: str = "127.0.0.1",
        port: int = 5672,
        vhost: str = "",
        **options: Any,
    ) -> EndpointConfig:
        """From the JSON object that ``lienthong agency add --json`` printed. ``broker``: the
        broker's URL without credentials, e.g. ``amqps://hub.example.gov.vn:5671/`` (scheme,
        port and vhost kept; TLS with ``amqps``); else ``amqp://host:port/vhost``.
        ``key_path``/``cert_path`` in ``options`` win over the file's."""
        data = json.loads(Path(path).read_text())
        if "amqp_password" not in data:
            raise ValueError(
                f"{path} holds no broker password: agency {data.get('organ_id')} is hosted by "
                f"system {data.get('system_id')}; connect with that system's credentials "
                "(`lienthong system add --json`) and organ_id set to the agency"
            )
        user = quote(data["amqp_user"], safe="")
        password = quote(data["amqp_password"], safe="")
        if broker is None:
            url = f"amqp://{user}:{password}@{host}:{port}/{vhost}"
        else:
            parts = urlsplit(broker)
            if parts.scheme not in ("amqp", "amqps") or not parts.hostname:
                raise ValueError(f"broker={broker!r}: give amqp[s]://host[:port]/[vhost]")
            where = parts.netloc.rsplit("@", 1)[-1]  # credentials come from the file
            url = urlunsplit(parts._replace(netloc=f"{user}:{password}@{where}"))
        key_path = Path(data["key_path"]) if data.get("key_path") else None
        cert_path = Path(data["cert_path"]) if data.get("cert_path") else None
        return cls(
            organ_id=data["organ_id"],
            system_id=data.get("system_id"),
            amqp_url=url,
            key_path=options.pop("key_path", key_path),
            cert_path=options.pop("cert_path", cert_path),
            http_token=options.pop("http_token", data.get("http_token")),
            **options,
        )
