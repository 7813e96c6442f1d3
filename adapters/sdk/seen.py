"""A small persistent store of message ids already handed to the application (SQLite), so
redeliveries after reconnects and restarts are dropped.

Writes are group-committed off the event loop: :meth:`SeenStore.add` queues the id with what
to do once it is on disk (acknowledge the message), and one background flush writes every
queued id in one transaction — one fsync for many messages, and the event loop never waits on
the disk. A message is acknowledged only after its id is durable, as before; a crash in
between means a redelivery, which is what a crash before the write always meant.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

Then = Callable[[], Awaitable[None]]


KEEP_SECONDS = 90 * 86400.0
"""How long a handled message id is remembered: far longer than any redelivery takes (a message
is redelivered when its consumer died before acknowledging it), short enough that the store
does not grow for ever."""


class SeenStore:
    def __init__(self, path: Path, *, keep_seconds: float = KEEP_SECONDS) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()  # one writer thread and the loop's lookups
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS seen"
                " (message_id TEXT PRIMARY KEY, handled_at REAL NOT NULL)"
            )
        self._pending: dict[str, list[Then]] = {}
        self._flusher: asyncio.Task[None] | None = None
        self.forget_older_than(keep_seconds)  # each time an endpoint opens

    def __contains__(self, message_id: str) -> bool:
        if message_id in self._pending:
            return True
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM seen WHERE message_id = ?", (message_id,)
            ).fetchone()
        return row is not None

    def add(self, message_id: str, then: Then | None = None) -> None:
        """Remember ``message_id``; run ``then`` (e.g. the ack) once it is on disk."""
        self._pending.setdefault(message_id, [])
        if then is not None:
            self._pending[message_id].append(then)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush())

    def _write(self, ids: list[str]) -> None:
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    "INSERT OR IGNORE INTO seen (message_id, handled_at) VALUES (?, ?)",
                    [(i, now) for i in ids],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    async def _flush(self) -> None:
        while self._pending:
            batch = self._pending
            self._pending = {}
            await asyncio.to_thread(self._write, list(batch))
            for thens in batch.values():
                for then in thens:
                    with contextlib.suppress(Exception):
                        await then()

    async def drain(self) -> None:
        """Wait until every id added so far is on disk (and its follow-up has run)."""
        while self._flusher is not None and not self._flusher.done():
            await asyncio.shield(self._flusher)

    def forget_older_than(self, seconds: float) -> None:
        with self._lock:
            self._db.execute("DELETE FROM seen WHERE handled_at < ?", (time.time() - seconds,))

    def close(self) -> None:
        with self._lock:
            self._db.close()
