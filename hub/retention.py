"""Retention of package bodies (issue 19; docs/OPERATIONS.md, "Retention and disk").

Packages older than a cut-off give up their bytes: archived to files under a folder (one file
per package, named by id and digest, checked against the recorded SHA-256 before the database
lets go of it) or dropped. What proves what happened stays: each package's digest, its signed
receipt, the chain links (which hold digests, never bodies) and the seals. Evidence bundles of
such a document say the bytes were not kept, or take them from the archive. Deliveries still
waiting to be published keep their package's bytes. Copies the HTTP gateway's inbox handed out
and that were acknowledged before the cut-off are deleted. Each run is a link on the hub's
chain."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hub.audit import events
from hub.db import DB, Q
from hub.errors import RetentionError

BATCH = 500


@dataclass(frozen=True, kw_only=True, slots=True)
class Retained:
    cutoff: str
    packages: int
    bytes: int
    inbox_copies: int
    archive: str | None
    dry_run: bool

    def as_json(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}


def archive_name(package_id: int, digest: bytes, decided_at: dt.datetime) -> str:
    """Where a package's bytes go under the archive folder: by month, id and digest."""
    return f"{decided_at:%Y/%m}/{package_id}-{digest.hex()[:16]}.edxml"


def _write(folder: Path, name: str, data: bytes, digest: bytes) -> None:
    if hashlib.sha256(data).digest() != digest:
        raise RetentionError(f"package bytes for {name} do not match their recorded digest")
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    part = path.with_suffix(".part")
    with part.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    part.replace(path)
    if hashlib.sha256(path.read_bytes()).digest() != digest:
        raise RetentionError(f"{path} does not read back as written")


async def apply(
    db: DB,
    *,
    older_than: dt.timedelta,
    archive: Path | None,
    dry_run: bool = False,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> Retained:
    """Archive (``archive``) or drop (``None``) the bytes of packages decided more than
    ``older_than`` ago; ``progress(done, total)`` as batches go."""
    cutoff = dt.datetime.now(dt.UTC) - older_than
    figures = await db.fetchrow(Q.retention_figures, cutoff)
    assert figures is not None
    total = int(figures["packages"])
    if dry_run:
        return Retained(
            cutoff=cutoff.isoformat(),
            packages=total,
            bytes=int(figures["bytes"]),
            inbox_copies=int(figures["inbox_copies"]),
            archive=str(archive) if archive else None,
            dry_run=True,
        )
    done = size = 0
    after = 0
    while True:
        rows = await db.fetch(Q.retention_candidates, cutoff, after, BATCH)
        if not rows:
            break
        names: list[str | None] = []
        for row in rows:
            body = bytes(row["body"])
            name = None
            if archive is not None:
                name = archive_name(row["id"], bytes(row["digest"]), row["decided_at"])
                _write(archive, name, body, bytes(row["digest"]))
            names.append(str(archive / name) if archive is not None and name else None)
            size += len(body)
        await db.execute(Q.retention_release, [r["id"] for r in rows], names)
        done += len(rows)
        after = rows[-1]["id"]
        progress(done, total)
    copies = await db.execute(Q.retention_inbox_copies, cutoff)
    inbox_copies = int(copies.split()[-1]) if copies.startswith("DELETE") else 0
    retained = Retained(
        cutoff=cutoff.isoformat(),
        packages=done,
        bytes=size,
        inbox_copies=inbox_copies,
        archive=str(archive) if archive else None,
        dry_run=False,
    )
    await events.append(db, kind="retention_applied", actor="operator", payload=retained.as_json())
    return retained
