"""A small client for RabbitMQ's management HTTP API (users, permissions, vhosts, queues)."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

import httpx

from hub.config import AmqpSettings, vhost_path
from hub.errors import ServiceUnavailable

JSON = dict[str, Any]


class Management:
    """``async with Management(settings.amqp) as api: await api.put_user(...)``."""

    def __init__(self, amqp: AmqpSettings, *, timeout: float = 10.0) -> None:
        self._amqp = amqp
        self._client = httpx.AsyncClient(
            base_url=amqp.management_url,
            auth=(amqp.user, amqp.password),
            timeout=timeout,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._client.aclose()

    async def _call(
        self, method: str, path: str, body: Mapping[str, Any] | None = None
    ) -> httpx.Response:
        try:
            response = await self._client.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(
                f"cannot reach RabbitMQ's management API at {self._amqp.management_url} "
                f"({type(exc).__name__}); enable it with "
                "`rabbitmq-plugins enable rabbitmq_management` "
                "or set LIENTHONG_AMQP_MANAGEMENT_URL"
            ) from exc
        if response.status_code == 401:
            raise ServiceUnavailable(
                f"RabbitMQ's management API refused user {self._amqp.user!r}: the user in "
                "LIENTHONG_AMQP_URL needs the administrator tag"
            )
        if response.status_code >= 400 and not (method == "GET" and response.status_code == 404):
            raise ServiceUnavailable(
                f"RabbitMQ's management API answered {response.status_code} to {method} {path}: "
                f"{response.text[:300]}"
            )
        return response

    async def overview(self) -> JSON:
        result: JSON = (await self._call("GET", "/overview")).json()
        return result

    async def put_vhost(self, vhost: str) -> None:
        await self._call("PUT", f"/vhosts/{vhost_path(vhost)}")

    async def delete_vhost(self, vhost: str) -> None:
        """Delete a vhost; one that does not exist is fine."""
        response = await self._client.delete(f"/vhosts/{vhost_path(vhost)}")
        if response.status_code not in (204, 404):
            raise ServiceUnavailable(f"could not delete vhost {vhost!r}: {response.text[:300]}")

    async def get_user(self, name: str) -> JSON | None:
        response = await self._call("GET", f"/users/{vhost_path(name)}")
        if response.status_code == 404:
            return None
        result: JSON = response.json()
        return result

    async def put_user(self, name: str, password: str, *, tags: str = "") -> None:
        await self._call("PUT", f"/users/{vhost_path(name)}", {"password": password, "tags": tags})

    async def delete_user(self, name: str) -> None:
        response = await self._client.delete(f"/users/{vhost_path(name)}")
        if response.status_code not in (204, 404):
            raise ServiceUnavailable(f"could not delete RabbitMQ user {name!r}: {response.text}")

    async def put_permissions(self, vhost: str, user: str, permissions: Mapping[str, str]) -> None:
        await self._call(
            "PUT", f"/permissions/{vhost_path(vhost)}/{vhost_path(user)}", dict(permissions)
        )

    async def get_permissions(self, vhost: str, user: str) -> JSON | None:
        response = await self._call("GET", f"/permissions/{vhost_path(vhost)}/{vhost_path(user)}")
        if response.status_code == 404:
            return None
        result: JSON = response.json()
        return result

    async def queue(self, vhost: str, name: str) -> JSON | None:
        response = await self._call("GET", f"/queues/{vhost_path(vhost)}/{vhost_path(name)}")
        if response.status_code == 404:
            return None
        result: JSON = response.json()
        return result

    async def users(self) -> list[JSON]:
        result: list[JSON] = (await self._call("GET", "/users")).json()
        return result

    async def queues(self, vhost: str) -> list[JSON]:
        result: list[JSON] = (await self._call("GET", f"/queues/{vhost_path(vhost)}")).json()
        return result

    async def definitions(self) -> JSON:
        """The broker's definitions: vhosts, users (password hashes), permissions, policies,
        queues, exchanges, bindings — not the messages."""
        result: JSON = (await self._call("GET", "/definitions")).json()
        return result

    async def load_definitions(self, definitions: Mapping[str, Any]) -> None:
        """Merge definitions (from :meth:`definitions`) into the broker."""
        await self._call("POST", "/definitions", definitions)
