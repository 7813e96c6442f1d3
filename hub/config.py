"""Settings from the environment (the contract's variables and defaults), validated at start.

A wrong value stops the program with one line that names the variable, what is wrong and
how to fix it (:class:`hub.errors.ConfigError`); nothing falls back silently.
"""

from __future__ import annotations

import dataclasses
import os
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from hub.errors import ConfigError
from hub.route import overdue
from hub.route.overdue import WorkingTime

DEFAULTS: Mapping[str, str] = {
    "LIENTHONG_AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/",
    "LIENTHONG_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/lienthong",
    "LIENTHONG_HTTP": "127.0.0.1:8080",
    "LIENTHONG_HOME": "./.lienthong",
    "LIENTHONG_MAX_PACKAGE_BYTES": "67108864",
    "LIENTHONG_INLINE_MAX_BYTES": "8388608",
    "LIENTHONG_CRL_STALE": "refuse",
    "LIENTHONG_CRL_REFRESH_SECONDS": "3600",
    "LIENTHONG_SEAL_SECONDS": "60",
    "LIENTHONG_CHECK_SECONDS": "30",
}


@dataclass(frozen=True, kw_only=True, slots=True)
class AmqpSettings:
    url: str
    """The first broker URL (the management API and the CLI use it)."""
    vhost: str
    user: str
    password: str
    host: str
    management_url: str
    """RabbitMQ's management HTTP API, e.g. ``http://127.0.0.1:15672/api``."""
    urls: tuple[str, ...] = ()
    """Every node's URL (``LIENTHONG_AMQP_URL`` comma-separated): the hub connects to one and,
    when it loses it, to another."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Settings:
    amqp: AmqpSettings
    database_url: str
    http_host: str
    http_port: int
    home: Path
    max_package_bytes: int
    working_time: WorkingTime = field(default_factory=WorkingTime)
    """The same-day rule: when a delivered document's first status is due."""
    stale_crl: str = "refuse"
    """``refuse`` or ``warn``: what a trusted CA's CRL past its nextUpdate means."""
    crl_refresh_seconds: float = 3600.0
    """How often CRLs are fetched again from the distribution points configured."""
    seal_seconds: float = 60.0
    """How often the chain heads are sealed (the window a deleted tail could go unseen)."""
    check_seconds: float = 30.0
    """The time budget of one package's checks (a backstop: the parser's caps bound them)."""
    vxp_timezone: str | None = None
    """The zone the national SDK's timestamps are read in (it writes its JVM's local time with
    no zone); ``None``: the hub's own local zone."""
    inline_max_bytes: int = 8 * 1024 * 1024
    """A package larger than this goes into inboxes as a claim check (``x-body-url``)."""
    public_url: str | None = None
    """``LIENTHONG_PUBLIC_URL``: how recipients reach the hub's HTTP side (its ``x-body-url``
    links); ``None``: ``http://`` and the address the hub listens on."""

    @property
    def base_url(self) -> str:
        """The hub's HTTP address as recipients reach it, without a trailing slash."""
        if self.public_url is not None:
            return self.public_url.rstrip("/")
        host = f"[{self.http_host}]" if ":" in self.http_host else self.http_host
        return f"http://{host}:{self.http_port}"

    @property
    def database_name(self) -> str:
        return urlsplit(self.database_url).path.lstrip("/")

    @property
    def ca_dir(self) -> Path:
        return self.home / "ca"

    @property
    def hub_dir(self) -> Path:
        return self.home / "hub"

    @property
    def agencies_dir(self) -> Path:
        return self.home / "agencies"

    @property
    def hub_key_path(self) -> Path:
        return self.hub_dir / "key.pem"

    @property
    def hub_cert_path(self) -> Path:
        return self.hub_dir / "cert.pem"


def redact(url: str) -> str:
    """A URL as it may be shown: its password replaced by ``***``."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        password = None
        parts = None
    if parts is None or not password:
        # not parseable, or no password: still never show what follows 'user:'
        return re.sub(r"(//[^/:@]*:)[^@/]*@", r"\1***@", url)
    netloc = parts.netloc.replace(f":{password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def _amqp(value: str, management: str | None) -> AmqpSettings:
    """One URL, or several comma-separated (the nodes of a cluster, same vhost and user)."""
    urls = tuple(u.strip() for u in value.split(",") if u.strip())
    if not urls:
        raise ConfigError("LIENTHONG_AMQP_URL is empty")
    first = _one_amqp(urls[0], management)
    for other in urls[1:]:
        again = _one_amqp(other, first.management_url)
        if (again.vhost, again.user) != (first.vhost, first.user):
            raise ConfigError(
                f"LIENTHONG_AMQP_URL: {redact(other)!r} names another vhost or user than "
                f"{redact(urls[0])!r}; the URLs of a cluster differ only in host and port"
            )
    return dataclasses.replace(first, urls=urls)


def _one_amqp(url: str, management: str | None) -> AmqpSettings:
    parts = urlsplit(url)
    if parts.scheme not in ("amqp", "amqps") or not parts.hostname:
        raise ConfigError(
            f"LIENTHONG_AMQP_URL={redact(url)!r} is not an AMQP URL; "
            "use the form amqp://user:password@host:5672/vhost"
        )
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise ConfigError(f"LIENTHONG_AMQP_URL={redact(url)!r} has a bad port") from exc
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    vhost = unquote(path) if path else "/"
    if management is None:
        scheme = "https" if parts.scheme == "amqps" else "http"
        management = f"{scheme}://{parts.hostname}:15672/api"
    elif not management.startswith(("http://", "https://")):
        raise ConfigError(
            f"LIENTHONG_AMQP_MANAGEMENT_URL={management!r} is not an http(s) URL; "
            "use the form http://127.0.0.1:15672/api"
        )
    return AmqpSettings(
        url=url,
        vhost=vhost,
        user=unquote(parts.username or "guest"),
        password=unquote(parts.password or "guest"),
        host=parts.hostname,
        management_url=management.rstrip("/"),
        urls=(url,),
    )


def _database(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres") or not parts.path.strip("/"):
        raise ConfigError(
            f"LIENTHONG_DATABASE_URL={redact(url)!r} is not a PostgreSQL URL with a database "
            "name; "
            "use the form postgresql://user@host:5432/lienthong"
        )
    return url


def _http(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ConfigError(
            f"LIENTHONG_HTTP={value!r} is not host:port; use for example 127.0.0.1:8080"
        )
    return host.strip("[]"), int(port)


def _size(value: str, name: str = "LIENTHONG_MAX_PACKAGE_BYTES") -> int:
    if not value.isdigit() or int(value) <= 0:
        raise ConfigError(
            f"{name}={value!r} is not a positive whole number of bytes; "
            f"use for example {DEFAULTS[name]} ({int(DEFAULTS[name]) // 2**20} MiB)"
        )
    return int(value)


def _public_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise ConfigError(
            f"LIENTHONG_PUBLIC_URL={value!r} is not an http(s) URL without a query; use the "
            "address recipients reach the hub at, e.g. https://truc.example.gov.vn"
        )
    return value


def _choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(f"{name}={value!r} is not one of {', '.join(choices)}")
    return value


def _seconds(name: str, value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise ConfigError(f"{name}={value!r} is not a positive number of seconds; use e.g. 60")
    return seconds


def read_env_file(path: Path) -> list[str]:
    """Put the ``KEY=value`` lines of ``path`` (systemd's EnvironmentFile form: ``#`` comments,
    optional quotes) into the environment, except what the environment already says. Returns
    the names set."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the settings file {path}: {exc.strerror}") from exc
    taken = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.removeprefix("export ").partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name.isidentifier():
            raise ConfigError(f"{path}, line {number}: not a KEY=value line")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if name not in os.environ:
            os.environ[name] = value
            taken.append(name)
    return taken


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and check the settings; raise :class:`ConfigError` naming the first bad one."""
    env = os.environ if environ is None else environ

    def get(name: str) -> str:
        value = env.get(name, "").strip()
        return value or DEFAULTS[name]

    host, port = _http(get("LIENTHONG_HTTP"))
    return Settings(
        amqp=_amqp(get("LIENTHONG_AMQP_URL"), env.get("LIENTHONG_AMQP_MANAGEMENT_URL") or None),
        database_url=_database(get("LIENTHONG_DATABASE_URL")),
        http_host=host,
        http_port=port,
        home=Path(get("LIENTHONG_HOME")).expanduser().resolve(),
        max_package_bytes=_size(get("LIENTHONG_MAX_PACKAGE_BYTES")),
        working_time=overdue.load(env),
        stale_crl=_choice("LIENTHONG_CRL_STALE", get("LIENTHONG_CRL_STALE"), ("refuse", "warn")),
        crl_refresh_seconds=_seconds(
            "LIENTHONG_CRL_REFRESH_SECONDS", get("LIENTHONG_CRL_REFRESH_SECONDS")
        ),
        seal_seconds=_seconds("LIENTHONG_SEAL_SECONDS", get("LIENTHONG_SEAL_SECONDS")),
        check_seconds=_seconds("LIENTHONG_CHECK_SECONDS", get("LIENTHONG_CHECK_SECONDS")),
        vxp_timezone=_zone(env.get("LIENTHONG_VXP_TIMEZONE", "").strip() or None),
        inline_max_bytes=_size(get("LIENTHONG_INLINE_MAX_BYTES"), "LIENTHONG_INLINE_MAX_BYTES"),
        public_url=_public_url(env.get("LIENTHONG_PUBLIC_URL", "").strip() or None),
    )


def _zone(name: str | None) -> str | None:
    if name is None:
        return None
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"LIENTHONG_VXP_TIMEZONE={name!r} is not a time zone; use e.g. Asia/Ho_Chi_Minh"
        ) from exc
    return name


def vhost_path(vhost: str) -> str:
    """The vhost as it goes into a management API path (``/`` becomes ``%2F``)."""
    return quote(vhost, safe="")
