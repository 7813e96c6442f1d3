"""The national directory: agencies in bulk (import, export), and identifier changes.

``plan`` is pure: it reads the file's rows against what the registry holds and decides, line
by line, what is added, changed, unchanged or closed, and what is refused and why (malformed
OrganId, duplicate code, unknown parent or system, a cycle of parents, a closure whose chain
loops). ``apply`` writes a plan in one transaction — one upsert with its columns as arrays — so
111,339 agencies go in within seconds and nothing is ever half applied.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from hub.audit import events
from hub.db import DB, Q
from hub.errors import RegistryError
from hub.registry.organ_id import check_organ_id

COLUMNS = ("organ_id", "name", "parent_id", "system_id", "state", "successor_id")
"""The contract's columns; ``closed_on`` (YYYY-MM-DD) may follow, for a closure's date."""
STATES = ("active", "suspended", "closed")


@dataclass(frozen=True, kw_only=True, slots=True)
class Entry:
    """One agency as the directory states it."""

    organ_id: str
    name: str
    parent_id: str | None
    system_id: str
    state: str
    successor_id: str | None
    closed_on: dt.date | None


@dataclass(frozen=True, kw_only=True, slots=True)
class Refusal:
    line: int
    organ_id: str
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Plan:
    added: tuple[Entry, ...] = ()
    changed: tuple[Entry, ...] = ()
    unchanged: int = 0
    closed: int = 0
    """Of those added or changed, how many an identifier change closes now."""
    refused: tuple[Refusal, ...] = ()

    @property
    def writes(self) -> tuple[Entry, ...]:
        return self.added + self.changed

    def summary(self) -> dict[str, object]:
        return {
            "added": len(self.added),
            "changed": len(self.changed),
            "unchanged": self.unchanged,
            "closed": self.closed,
            "refused": [
                {"line": r.line, "organ_id": r.organ_id, "reason": r.reason} for r in self.refused
            ],
        }


def read(data: bytes, fmt: str) -> list[tuple[int, dict[str, str]]]:
    """(line number, fields) of each row of a CSV file with a header, or of a JSON array."""
    text = data.decode("utf-8-sig")
    if fmt == "json":
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RegistryError(f"not JSON: {exc}") from exc
        if not isinstance(items, list):
            raise RegistryError("a JSON directory is an array of objects")
        rows = []
        for index, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                raise RegistryError(f"item {index} is not an object")
            rows.append((index, {k: "" if v is None else str(v) for k, v in item.items()}))
        return rows
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("organ_id", "name") if c not in (reader.fieldnames or ())]
    if missing:
        raise RegistryError(
            f"the CSV header lacks {', '.join(missing)}; columns: {', '.join(COLUMNS)}"
        )
    return [(reader.line_num, {k: (v or "") for k, v in row.items() if k}) for row in reader]


@dataclass(frozen=True, kw_only=True, slots=True)
class Known:
    """What the registry holds before the import."""

    agencies: Mapping[str, Entry] = field(default_factory=dict)
    systems: frozenset[str] = frozenset()


def _entry(fields: Mapping[str, str], before: Entry | None, today: dt.date) -> Entry:
    organ_id = check_organ_id(fields.get("organ_id", "").strip(), legacy=True)
    name = fields.get("name", "").strip()
    if not name:
        raise RegistryError("no name")
    state = fields.get("state", "").strip().lower() or (before.state if before else "active")
    if state not in STATES:
        raise RegistryError(f"state {state!r} is not one of {', '.join(STATES)}")
    if "successor_id" in fields:
        successor = fields["successor_id"].strip() or None
    else:  # a file without the column leaves closures as they are
        successor = before.successor_id if before else None
    if state == "closed" and successor is None:
        raise RegistryError("closed, but no successor_id")
    closed_on = None
    if successor is not None:
        text = fields.get("closed_on", "").strip()
        try:
            closed_on = dt.date.fromisoformat(text) if text else today
        except ValueError as exc:
            raise RegistryError(f"closed_on {text!r} is not a date (YYYY-MM-DD)") from exc
        if before is not None and before.successor_id == successor and not text:
            closed_on = before.closed_on or today  # an unchanged closure keeps its date
    system = fields.get("system_id", "").strip() or (before.system_id if before else "")
    if not system:
        raise RegistryError("no system_id: name the system that hosts it")
    return Entry(
        organ_id=organ_id,
        name=name,
        parent_id=fields.get("parent_id", "").strip() or None,
        system_id=system,
        state="active" if state == "closed" else state,
        successor_id=successor,
        closed_on=closed_on,
    )


def plan(rows: Sequence[tuple[int, Mapping[str, str]]], known: Known, today: dt.date) -> Plan:
    """Decide every line. A line refused makes the lines that depend on it (their parent or
    successor) refused too, so what is applied is consistent on its own."""
    entries: dict[str, tuple[int, Entry]] = {}
    refused: list[Refusal] = []
    for line, fields in rows:
        organ = fields.get("organ_id", "").strip()
        try:
            entry = _entry(fields, known.agencies.get(organ), today)
        except RegistryError as exc:
            refused.append(Refusal(line=line, organ_id=organ, reason=str(exc)))
            continue
        if entry.organ_id in entries:
            first = entries[entry.organ_id][0]
            refused.append(Refusal(line=line, organ_id=organ, reason=f"duplicate of line {first}"))
            continue
        entries[entry.organ_id] = (line, entry)
    while True:  # refusing one line may refuse those that refer to it
        found = _check_references(entries, known)
        if not found:
            break
        for refusal in found:
            entries.pop(refusal.organ_id, None)
            refused.append(refusal)
    added, changed, unchanged, closed = [], [], 0, 0
    for _, entry in entries.values():
        before = known.agencies.get(entry.organ_id)
        if before is None:
            added.append(entry)
        elif before != entry:
            changed.append(entry)
        else:
            unchanged += 1
            continue
        if entry.successor_id is not None and (before is None or before.successor_id is None):
            closed += 1
    return Plan(
        added=tuple(added),
        changed=tuple(changed),
        unchanged=unchanged,
        closed=closed,
        refused=tuple(sorted(refused, key=lambda r: r.line)),
    )


def _check_references(entries: dict[str, tuple[int, Entry]], known: Known) -> list[Refusal]:
    def current(organ: str) -> Entry | None:
        if organ in entries:
            return entries[organ][1]
        return known.agencies.get(organ)

    found: list[Refusal] = []
    for organ, (line, entry) in entries.items():
        reason = None
        if entry.system_id not in known.systems:
            reason = f"unknown system {entry.system_id} (lienthong system add)"
        elif entry.parent_id is not None and current(entry.parent_id) is None:
            reason = f"unknown parent {entry.parent_id}"
        elif entry.successor_id is not None and current(entry.successor_id) is None:
            reason = f"unknown successor {entry.successor_id}"
        elif entry.successor_id == organ:
            reason = "its own successor"
        elif _loops(organ, lambda o: _parent(current(o))):
            reason = "a cycle of parents"
        elif _loops(organ, lambda o: _successor(current(o))):
            reason = "a cycle of successors"
        if reason is not None:
            found.append(Refusal(line=line, organ_id=organ, reason=reason))
    return found


def _parent(entry: Entry | None) -> str | None:
    return entry.parent_id if entry is not None else None


def _successor(entry: Entry | None) -> str | None:
    return entry.successor_id if entry is not None else None


def _loops(start: str, step: Callable[[str], str | None]) -> bool:
    """Whether following ``step`` from ``start`` comes back to a node already passed."""
    seen = {start}
    node = step(start)
    while node is not None:
        if node in seen:
            return True
        seen.add(node)
        node = step(node)
    return False


async def known(db: DB) -> Known:
    agencies = {
        r["organ_id"]: Entry(
            organ_id=r["organ_id"],
            name=r["name"],
            parent_id=r["parent_id"],
            system_id=r["system_id"],
            state=r["state"],
            successor_id=r["successor_id"],
            closed_on=r["closed_on"],
        )
        for r in await db.fetch(Q.directory_all)
    }
    systems = frozenset(r["system_id"] for r in await db.fetch(Q.registry_systems))
    return Known(agencies=agencies, systems=systems)


async def apply(db: asyncpg.Connection, decided: Plan, *, source: bytes) -> None:
    """Write the plan in one transaction: one upsert, its columns passed as arrays."""
    writes = decided.writes
    async with db.transaction():
        await db.execute(
            Q.directory_upsert,
            [e.organ_id for e in writes],
            [e.name for e in writes],
            [e.parent_id for e in writes],
            [e.system_id for e in writes],
            [e.state for e in writes],
            [e.successor_id for e in writes],
            [e.closed_on for e in writes],
        )
        await events.append(
            db,
            kind="directory_imported",
            actor="operator",
            payload={
                "sha256": hashlib.sha256(source).hexdigest(),
                "added": len(decided.added),
                "changed": len(decided.changed),
                "unchanged": decided.unchanged,
                "closed": decided.closed,
                "refused": len(decided.refused),
            },
        )


def as_item(r: asyncpg.Record) -> dict[str, Any]:
    """An agency as the directory shows it (export, ``GET /api/v1/directory``)."""
    return {
        "organ_id": r["organ_id"],
        "name": r["name"],
        "parent_id": r["parent_id"],
        "system_id": r["system_id"],
        "state": r["state"],
        "successor_id": r["successor_id"],
        "closed_on": r["closed_on"].isoformat() if r["closed_on"] else None,
    }


def export(rows: Iterable[asyncpg.Record], fmt: str) -> str:
    items = [as_item(r) for r in rows]
    if fmt == "json":
        return json.dumps(items, ensure_ascii=False, indent=1) + "\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*COLUMNS, "closed_on"])
    writer.writeheader()
    for item in items:
        writer.writerow({k: "" if v is None else v for k, v in item.items()})
    return out.getvalue()


async def close(db: DB, organ_id: str, successor: str, on: dt.date) -> None:
    """An identifier change: ``organ_id`` closes on ``on``; ``successor`` takes its place.

    A successor that is itself closed is fine (chains resolve to the last one); a closure that
    would make a chain loop back is refused."""
    if organ_id == successor:
        raise RegistryError(f"{organ_id} cannot be its own successor")
    current = await known(db)
    if organ_id not in current.agencies:
        raise RegistryError(f"agency {organ_id} is not registered")
    if successor not in current.agencies:
        raise RegistryError(f"successor {successor} is not registered (add it first)")
    node: str | None = successor
    seen = {organ_id}
    while node is not None:
        if node in seen:
            raise RegistryError(
                f"closing {organ_id} into {successor} would make a cycle of successors"
            )
        seen.add(node)
        node = current.agencies[node].successor_id if node in current.agencies else None
    async with db.transaction():
        await db.execute(Q.agency_close, organ_id, successor, on)
        await events.append(
            db,
            kind="agency_closed",
            actor="operator",
            organ_id=organ_id,
            payload={"successor": successor, "on": on.isoformat()},
        )
