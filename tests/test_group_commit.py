"""The group commit's scheduling, without servers: batches, keys, urgency, failures."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

import asyncpg
import pytest

from hub.db import not_transient
from hub.record.group_commit import GroupCommit


class Work:
    """Records each batch; waits on ``gate`` so that callers can queue up behind it."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail: Exception | None = None

    async def __call__(self, batch: Sequence[str]) -> list[str]:
        self.batches.append(list(batch))
        await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        return [item.upper() for item in batch]


@pytest.fixture
async def work() -> Work:
    return Work()


@contextlib.asynccontextmanager
async def running(group: GroupCommit[str, str]) -> AsyncIterator[None]:
    """The group's loop, for the block."""
    runner = asyncio.create_task(group.run())
    try:
        yield
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)


async def test_callers_that_queue_up_share_a_transaction(work: Work) -> None:
    group: GroupCommit[str, str] = GroupCommit(work, keys=lambda s: (s,), most=8)
    async with running(group):
        work.gate.clear()
        first = asyncio.create_task(group.submit("a"))
        await asyncio.sleep(0.01)  # "a" is in PostgreSQL; the next ones gather
        rest = [asyncio.create_task(group.submit(x)) for x in "bcdefghijk"]
        await asyncio.sleep(0.01)
        work.gate.set()
        assert await first == "A"
        assert await asyncio.gather(*rest) == list("BCDEFGHIJK")
    assert work.batches == [["a"], list("bcdefghi"), ["j", "k"]]
    assert group.batches == 3 and group.items == 11


async def test_the_same_key_never_shares_a_batch_and_urgent_goes_first(work: Work) -> None:
    group: GroupCommit[str, str] = GroupCommit(work, keys=lambda s: (s[0],), most=8)
    async with running(group):
        work.gate.clear()
        blocker = asyncio.create_task(group.submit("z"))
        await asyncio.sleep(0.01)
        ordinary = [asyncio.create_task(group.submit(x)) for x in ("a1", "b1", "a2", "c1")]
        urgent = asyncio.create_task(group.submit("u1", urgent=True))
        await asyncio.sleep(0.01)
        work.gate.set()
        await asyncio.gather(blocker, urgent, *ordinary)
    assert work.batches == [["z"], ["u1", "a1", "b1", "c1"], ["a2"]]


async def test_a_failed_batch_fails_every_caller_and_the_next_one_runs(work: Work) -> None:
    group: GroupCommit[str, str] = GroupCommit(work, keys=lambda s: (s,), most=8)
    async with running(group):
        work.gate.clear()
        blocker = asyncio.create_task(group.submit("x"))
        await asyncio.sleep(0.01)
        callers = [asyncio.create_task(group.submit(s)) for s in "ab"]
        work.fail = RuntimeError("connection lost")
        work.gate.set()
        outcomes = await asyncio.gather(blocker, *callers, return_exceptions=True)
        assert all(isinstance(o, RuntimeError) for o in outcomes)
        work.fail = None
        assert await group.submit("a") == "A"


async def test_a_caller_that_gives_up_is_left_out(work: Work) -> None:
    group: GroupCommit[str, str] = GroupCommit(work, keys=lambda s: (s,), most=8)
    async with running(group):
        work.gate.clear()
        blocker = asyncio.create_task(group.submit("x"))
        await asyncio.sleep(0.01)
        gone = asyncio.create_task(group.submit("gone"))
        kept = asyncio.create_task(group.submit("kept"))
        await asyncio.sleep(0.01)
        gone.cancel()
        work.gate.set()
        assert await kept == "KEPT"
        await blocker
    assert ["kept"] in work.batches and all("gone" not in b for b in work.batches)


async def test_a_batch_failing_for_one_bad_item_is_split_and_only_that_caller_fails() -> None:
    attempts: list[list[str]] = []

    async def fussy(batch: Sequence[str]) -> list[str]:
        attempts.append(list(batch))
        if "bad" in batch:
            raise ValueError("bad item")
        if "flaky" in batch:
            raise ConnectionError("passing")
        return [item.upper() for item in batch]

    group: GroupCommit[str, str] = GroupCommit(
        fussy, keys=lambda s: (s,), most=8, split_on=lambda exc: isinstance(exc, ValueError)
    )
    async with running(group):
        outcomes = await asyncio.gather(
            *(group.submit(s) for s in ("a", "bad", "c")), return_exceptions=True
        )
        assert outcomes[0] == "A" and outcomes[2] == "C"
        assert isinstance(outcomes[1], ValueError)
        assert attempts[-3:] == [["a"], ["bad"], ["c"]]  # tried alone after the batch failed
        passing = await asyncio.gather(
            *(group.submit(s) for s in ("d", "flaky")), return_exceptions=True
        )
    assert all(isinstance(o, ConnectionError) for o in passing)  # not split: both retry
    assert attempts[-1] == ["d", "flaky"]


async def test_items_with_any_key_in_common_never_share_a_batch(work: Work) -> None:
    """A submission has two keys (its message, its DocumentId): either in common keeps apart."""
    group: GroupCommit[str, str] = GroupCommit(work, keys=lambda s: (s[0], s[1]), most=8)
    async with running(group):
        work.gate.clear()
        blocker = asyncio.create_task(group.submit("zz"))
        await asyncio.sleep(0.01)
        callers = [asyncio.create_task(group.submit(s)) for s in ("a1", "b1", "c2", "a3")]
        await asyncio.sleep(0.01)
        work.gate.set()
        await asyncio.gather(blocker, *callers)
    assert work.batches == [["zz"], ["a1", "c2"], ["b1", "a3"]]


def test_the_pipeline_splits_batches_on_bad_rows_and_on_unique_violations() -> None:
    assert not_transient(asyncpg.ForeignKeyViolationError("no such certificate"))
    assert not_transient(asyncpg.UniqueViolationError("the same message twice"))
    assert not not_transient(asyncpg.CannotConnectNowError("restarting"))
    assert not not_transient(OSError("connection reset"))


async def test_lingering_gathers_ordinary_items_but_never_delays_urgent_ones(work: Work) -> None:
    group: GroupCommit[str, str] = GroupCommit(work, most=8, linger=0.5)
    async with running(group):
        first = asyncio.create_task(group.submit("a"))
        await asyncio.sleep(0.05)
        assert work.batches == []  # still lingering: more may come
        second = asyncio.create_task(group.submit("b"))
        assert await asyncio.gather(first, second) == ["A", "B"]
        assert work.batches == [["a", "b"]]
        started = asyncio.get_running_loop().time()
        assert await group.submit("u", urgent=True) == "U"
        assert asyncio.get_running_loop().time() - started < 0.25
        full = [asyncio.create_task(group.submit(x)) for x in "cdefghij"]
        started = asyncio.get_running_loop().time()
        await asyncio.gather(*full)
        assert asyncio.get_running_loop().time() - started < 0.25  # most items: no waiting
    assert work.batches[1:] == [["u"], list("cdefghij")]
