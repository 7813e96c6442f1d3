"""Every SQL statement the hub runs, loaded by name from ``queries/*.sql``.

A file holds several statements, each introduced by a ``-- name: some_name`` line.
"""

from __future__ import annotations

import re
from importlib import resources

_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


def _load() -> dict[str, str]:
    found: dict[str, str] = {}
    folder = resources.files("hub.db").joinpath("queries")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        text = entry.read_text(encoding="utf-8")
        pieces = _NAME.split(text)
        for name, body in zip(pieces[1::2], pieces[2::2], strict=True):
            if name in found:
                raise RuntimeError(f"query {name!r} is defined twice (in {entry.name})")
            found[name] = body.strip()
    return found


class _Queries:
    def __init__(self) -> None:
        self._by_name = _load()

    def __getattr__(self, name: str) -> str:
        try:
            return self._by_name[name]
        except KeyError:
            raise AttributeError(f"no SQL query named {name!r} in hub/db/queries") from None

    def names(self) -> list[str]:
        return sorted(self._by_name)


Q = _Queries()
"""``Q.agency_insert`` is the text of the query named ``agency_insert``."""
