"""Group commit: many callers' database work done together, in one transaction.

Each caller hands in one item and waits for its own result; a loop takes whatever has queued
up (urgent items first, at most ``most``) and runs the batch's work once. While a batch is in
PostgreSQL the next one gathers, so the busier the hub, the larger the batches and the fewer
round trips and commits per package — and with one caller alone it is a transaction as
before. Items that share a key (the same submission, the same document) never share a
batch: the later one waits for the next, so each batch can treat its items as independent.

A batch that fails fails for every caller in it, each of which decides, as it would for its
own transaction, whether to try again (:meth:`hub.route.pipeline.Pipeline.retrying`) — unless the
failure is one ``split_on`` names (not a passing one: a bad item, say), when each item is
tried alone and only the bad one's caller fails.

With ``linger``, a batch of fewer than ``most`` ordinary items waits that long for more before
it is taken (for work off the latency path: fewer, larger statements); urgent items never wait.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import structlog

log = structlog.get_logger(__name__)

T = TypeVar("T")
R = TypeVar("R")


@dataclass(eq=False)
class _Waiting(Generic[T, R]):
    item: T
    keys: tuple[Hashable, ...]
    future: asyncio.Future[R] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class GroupCommit(Generic[T, R]):
    """``await group.submit(item)`` returns ``work([…, item, …])``'s result for ``item``."""

    def __init__(
        self,
        work: Callable[[Sequence[T]], Awaitable[Sequence[R]]],
        *,
        keys: Callable[[T], Iterable[Hashable]] = lambda item: (id(item),),
        most: int = 64,
        split_on: Callable[[Exception], bool] = lambda _: False,
        name: str = "batch",
        linger: float = 0.0,
    ) -> None:
        self._work = work
        self._linger = linger
        self._split_on = split_on
        self._keys = keys
        self._most = most
        self._name = name
        self._queues: tuple[collections.deque[_Waiting[T, R]], ...] = (
            collections.deque(),
            collections.deque(),
        )
        self._ready = asyncio.Event()
        self.batches = 0
        self.items = 0

    def __len__(self) -> int:
        return sum(len(q) for q in self._queues)

    async def submit(self, item: T, *, urgent: bool = False) -> R:
        waiting: _Waiting[T, R] = _Waiting(item=item, keys=tuple(self._keys(item)))
        self._queues[0 if urgent else 1].append(waiting)
        self._ready.set()
        return await waiting.future

    def _take(self) -> list[_Waiting[T, R]]:
        taken: list[_Waiting[T, R]] = []
        keys: set[Hashable] = set()
        for queue in self._queues:
            kept: collections.deque[_Waiting[T, R]] = collections.deque()
            while queue and len(taken) < self._most:
                waiting = queue.popleft()
                if waiting.future.done():  # its caller gave up (cancelled)
                    continue
                if any(k in keys for k in waiting.keys):
                    kept.append(waiting)  # a key in common waits for a later batch
                    continue
                keys.update(waiting.keys)
                taken.append(waiting)
            queue.extendleft(reversed(kept))
        if not taken or not any(self._queues):
            self._ready.clear()  # set again by the next submit, or when a batch ends
        return taken

    async def run(self) -> None:
        """Take batches until cancelled, one in PostgreSQL at a time (the next gathers)."""
        while True:
            await self._ready.wait()
            if self._linger and not self._queues[0] and len(self) < self._most:
                await asyncio.sleep(self._linger)  # let more gather (never with urgent items)
            batch = self._take()
            if batch:
                await self._one(batch)

    async def _one(self, batch: list[_Waiting[T, R]]) -> None:
        try:
            outcomes = await self._outcomes(batch)
        except asyncio.CancelledError:
            for waiting in batch:
                waiting.future.cancel()
            raise
        finally:
            if any(self._queues):
                self._ready.set()
        self.batches += 1
        self.items += len(batch)
        for waiting, outcome in zip(batch, outcomes, strict=True):
            if waiting.future.done():
                continue
            if isinstance(outcome, Exception):
                waiting.future.set_exception(outcome)
            else:
                waiting.future.set_result(outcome)

    async def _outcomes(self, batch: list[_Waiting[T, R]]) -> list[R | Exception]:
        """The batch's results; when it fails in a way ``split_on`` names, each item alone, so
        that one bad item fails only its own caller."""
        try:
            return list(await self._work([w.item for w in batch]))
        except Exception as exc:
            if len(batch) == 1 or not self._split_on(exc):
                return [exc] * len(batch)
            log.warning("batch_split", work=self._name, size=len(batch), error=repr(exc))
        outcomes: list[R | Exception] = []
        for waiting in batch:
            try:
                outcomes.append((await self._work([waiting.item]))[0])
            except Exception as exc:
                outcomes.append(exc)
        return outcomes
