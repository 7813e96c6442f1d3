"""Waiting before trying again: exponential backoff, the one way the hub does it."""

from __future__ import annotations

import asyncio


class Backoff:
    """Delays of ``first`` seconds, doubling up to ``most``."""

    def __init__(self, first: float, *, most: float = 5.0) -> None:
        self._first = first
        self._most = most
        self.delay = first
        """The delay the next wait will take."""

    def next(self) -> float:
        """The delay to wait now; the following one doubles."""
        delay = self.delay
        self.delay = min(self.delay * 2, self._most)
        return delay

    async def sleep(self) -> None:
        await asyncio.sleep(self.next())
