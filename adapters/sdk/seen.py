"""A small persistent store of message ids already handed to the application (SQLite), so
redeliveries after reconnects and restarts are dropped."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path


class SeenStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS seen"
            " (message_id TEXT PRIMARY KEY, handled_at REAL NOT NULL)"
        )

    def __contains__(self, message_id: str) -> bool:
        row = self._db.execute("SELECT 1 FROM seen WHERE message_id = ?", (message_id,)).fetchone()
        return row is not None

    def add(self, message_id: str) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO seen (message_id, handled_at) VALUES (?, ?)",
            (message_id, time.time()),
        )

    def forget_older_than(self, seconds: float) -> None:
        self._db.execute("DELETE FROM seen WHERE handled_at < ?", (time.time() - seconds,))

    def close(self) -> None:
        self._db.close()
