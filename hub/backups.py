"""Backups and restores of one hub (issue 19): the database (``pg_dump``'s custom format, one
consistent snapshot), ``LIENTHONG_HOME`` (the hub's key, the key that seals national-SDK
secrets, the development CA) and RabbitMQ's definitions (users, permissions, queues — not the
messages), with a manifest of SHA-256 digests. A restore goes into an empty database, checks
every digest first, and records itself on the hub's chain, so ``lienthong audit verify`` says
when the records were rolled back to (and that links written after that, elsewhere, are not
lost by tampering)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import tarfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from hub.audit import events
from hub.broker.management import Management
from hub.config import Settings
from hub.db import Q, connect
from hub.db.connection import with_database
from hub.errors import BackupError

MANIFEST = "manifest.json"
DATABASE = "database.dump"
HOME = "home.tar"
BROKER = "rabbitmq-definitions.json"

Step = Callable[[str], None]
"""Told each step as it starts (the command line shows them)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Manifest:
    hub_version: str
    schema: int
    taken_at: str
    links: int
    chains: int
    packages: int
    files: Mapping[str, str]
    """File name → SHA-256 (hex)."""

    def as_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__} | {"files": dict(self.files)}


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password (which goes in PGPASSWORD: not on a command line)."""
    parts = urlsplit(url)
    env = dict(os.environ)
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)
        netloc = parts.netloc.rsplit("@", 1)
        user = netloc[0].split(":", 1)[0]
        parts = parts._replace(netloc=f"{user}@{netloc[1]}")
    return urlunsplit(parts), env


async def _tool(*argv: str, env: Mapping[str, str]) -> None:
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            env=dict(env),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
    except FileNotFoundError as exc:
        raise BackupError(
            f"{argv[0]} is not installed (Debian: apt-get install postgresql-client)"
        ) from exc
    _, stderr = await process.communicate()
    if process.returncode != 0:
        said = stderr.decode(errors="replace").strip().splitlines()
        raise BackupError(f"{argv[0]} failed: {said[-1] if said else process.returncode}")


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def _private(path: Path) -> None:
    path.chmod(0o600)


async def take(settings: Settings, target: Path, step: Step = lambda _: None) -> Manifest:
    """A backup into ``target`` (a new or empty folder, made 0700)."""
    from hub import __version__

    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: back up into a new folder")
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    db = await connect(settings.database_url)
    try:
        figures = await db.fetchrow(Q.backup_figures)
    finally:
        await db.close()
    assert figures is not None
    step("database (pg_dump)")
    url, env = _libpq(settings.database_url)
    dump = target / DATABASE
    await _tool("pg_dump", "--format=custom", "--no-owner", f"--file={dump}", url, env=env)
    _private(dump)
    step(f"LIENTHONG_HOME ({settings.home})")
    with tarfile.open(target / HOME, "w") as archive:
        archive.add(settings.home, arcname=".")
    _private(target / HOME)
    step("RabbitMQ definitions")
    async with Management(settings.amqp) as api:
        definitions = await api.definitions()
    (target / BROKER).write_text(json.dumps(definitions, indent=1))
    _private(target / BROKER)
    manifest = Manifest(
        hub_version=__version__,
        schema=int(figures["schema"]),
        taken_at=figures["at"].isoformat(),
        links=int(figures["links"]),
        chains=int(figures["chains"]),
        packages=int(figures["packages"]),
        files={name: _digest(target / name) for name in (DATABASE, HOME, BROKER)},
    )
    (target / MANIFEST).write_text(json.dumps(manifest.as_json(), indent=2) + "\n")
    return manifest


def read_manifest(source: Path) -> Manifest:
    """The manifest of a backup, every file checked against its digest."""
    try:
        data = json.loads((source / MANIFEST).read_text())
        manifest = Manifest(**data)
    except (OSError, ValueError, TypeError) as exc:
        raise BackupError(f"{source} holds no readable {MANIFEST}: {exc}") from exc
    for name, digest in manifest.files.items():
        if not (source / name).is_file() or _digest(source / name) != digest:
            raise BackupError(f"{source / name} is missing or does not match the manifest")
    return manifest


async def _empty_database(settings: Settings) -> None:
    """Make the database if missing; refuse one that holds tables."""
    import asyncpg

    admin = await connect(with_database(settings.database_url, "postgres"))
    try:
        exists = await admin.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", settings.database_name
        )
        if not exists:
            await admin.execute(f'CREATE DATABASE "{settings.database_name}"')
            return
    finally:
        await admin.close()
    db = await asyncpg.connect(settings.database_url)
    try:
        tables = await db.fetchval(Q.public_tables)
    finally:
        await db.close()
    if tables:
        raise BackupError(
            f"database {settings.database_name} is not empty ({tables} tables): restore into a "
            "new database (set LIENTHONG_DATABASE_URL) or drop this one first"
        )


def _unpack_home(archive_path: Path, home: Path) -> None:
    with tarfile.open(archive_path) as archive:
        clashes = [
            m.name
            for m in archive.getmembers()
            if m.isfile()
            and (home / m.name).exists()
            and (home / m.name).read_bytes() != archive.extractfile(m).read()  # type: ignore[union-attr]
        ]
        if clashes:
            raise BackupError(
                f"{home} already holds other versions of {', '.join(sorted(clashes)[:3])}: "
                "restore into an empty LIENTHONG_HOME"
            )
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        archive.extractall(home, filter="data")


async def restore(
    settings: Settings, source: Path, *, broker: bool = False, step: Step = lambda _: None
) -> Manifest:
    manifest = read_manifest(source)
    step("database (pg_restore)")
    await _empty_database(settings)
    url, env = _libpq(settings.database_url)
    await _tool(
        "pg_restore",
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        f"--dbname={url}",
        str(source / DATABASE),
        env=env,
    )
    step(f"LIENTHONG_HOME ({settings.home})")
    _unpack_home(source / HOME, settings.home)
    if broker:
        step("RabbitMQ definitions")
        async with Management(settings.amqp) as api:
            await api.load_definitions(json.loads((source / BROKER).read_text()))
    db = await connect(settings.database_url)
    try:
        await events.append(
            db,
            kind="restored",
            actor="operator",
            payload={
                "taken_at": manifest.taken_at,
                "links": manifest.links,
                "schema": manifest.schema,
                "database": manifest.files[DATABASE],
            },
        )
    finally:
        await db.close()
    return manifest
