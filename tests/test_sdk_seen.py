"""The SDK's store of handled message ids forgets what is older than it needs (no server)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from adapters.sdk.seen import KEEP_SECONDS, SeenStore


def test_old_ids_are_forgotten_when_an_endpoint_opens(tmp_path: Path) -> None:
    path = tmp_path / "seen.sqlite"
    SeenStore(path).close()
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO seen (message_id, handled_at) VALUES (?, ?)",
            [("old", time.time() - KEEP_SECONDS - 60), ("recent", time.time() - 60)],
        )
    store = SeenStore(path)
    try:
        assert "recent" in store
        assert "old" not in store
    finally:
        store.close()
