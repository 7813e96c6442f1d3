"""The CPU-bound checks of a submission, off the event loop and within a time budget.

Parsing, schema validation, canonicalisation and signature verification are libxml2, xmlsec-free
lxml C code and OpenSSL, which release the GIL while they work: run in threads they leave the
event loop — HTTP, the broker's heartbeats, every other submission — free. Measured on this
2-vCPU machine (docs/ARCHITECTURE.md): a 27 MB package held the loop for 1.5 s inline and at most
38 ms from a thread; a package at the element caps, 55 ms and 1.4 ms. A process pool would also
free the loop, but would copy each package to a child and what was verified back.

The caps of :mod:`hub.check.xmlsafe` bound what any package can cost; the budget is the backstop. A
package whose checks outlast it is refused with ``XML_FORBIDDEN`` (its structure makes it too
costly to check); the thread runs on to its end, since a thread cannot be stopped.

Small packages (:data:`INLINE_BELOW`) are the exception: their checks cost less than the trip
to a thread and back, and cannot come near the budget.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import os
from concurrent.futures import ThreadPoolExecutor

import structlog

from hub import metrics
from hub.check import decision, schema, trust
from hub.check.decision import Checked, Rejection, Submission
from hub.errors import Code

log = structlog.get_logger(__name__)


INLINE_BELOW = 16 << 10
"""Packages smaller than this are checked on the event loop itself. Handing a small package to
a thread and its result back (a wake-up each way, the GIL passed back and forth) cost the hub
some 4 % of its processor time per document on this project's 2-core machine; checking it in
place holds the loop for 0.7 ms, and at most some 6 ms for the costliest package of that size
within the caps of :mod:`hub.check.xmlsafe` (2,500 foreign elements, accepted)."""


def default_threads() -> int:
    return max(2, min(4, os.cpu_count() or 2))


class Checker:
    """Runs :func:`hub.check.decision.decide` in a small pool of threads, each within ``budget``
    (a package under ``inline_below`` bytes on the event loop: see :data:`INLINE_BELOW`)."""

    def __init__(
        self, *, budget: float, threads: int | None = None, inline_below: int = INLINE_BELOW
    ) -> None:
        self.budget = budget
        self.inline_below = inline_below
        # compiled here, once, before any check thread runs (hub.check.schema.load says why)
        for kind in schema.Kind:
            schema.schema_for(kind)
        self._pool = ThreadPoolExecutor(
            max_workers=threads or default_threads(), thread_name_prefix="lienthong-check"
        )

    async def decide(
        self,
        submission: Submission,
        snapshot: trust.Snapshot,
        *,
        now: dt.datetime,
        max_bytes: int,
    ) -> Checked | Rejection:
        if len(submission.body) < self.inline_below:  # cheaper here than a thread's round trip
            return decision.decide(submission, snapshot, now=now, max_bytes=max_bytes)
        loop = asyncio.get_running_loop()
        work = functools.partial(
            decision.decide, submission, snapshot, now=now, max_bytes=max_bytes
        )
        try:
            return await asyncio.wait_for(loop.run_in_executor(self._pool, work), self.budget)
        except TimeoutError:
            metrics.CHECKS_OVER_BUDGET.inc()
            log.error(
                "check_over_budget",
                message_id=submission.message_id,
                submitter=submission.submitter,
                size=len(submission.body),
                budget_s=self.budget,
            )
            return Rejection(
                code=Code.XML_FORBIDDEN,
                detail=(
                    f"checking the package took longer than {self.budget:g} s "
                    "(LIENTHONG_CHECK_SECONDS); its structure makes it too costly to check — "
                    "send it with fewer elements, attributes and namespace declarations"
                ),
            )

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
