"""Prometheus metrics of the pipeline (served at /metrics).

With ``lienthong serve --workers N`` every process counts for itself into files under one
directory (prometheus-client's multiprocess mode, :func:`share_between_processes`), and
``/metrics`` (:func:`exposition`) adds them up: what it shows is the whole hub's traffic.
"""

from __future__ import annotations

import functools
import importlib
import os
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.registry import Collector

SHARED = "PROMETHEUS_MULTIPROC_DIR"
"""Set (to a directory) while several processes count together; children inherit it."""
_registry = None if os.environ.get(SHARED) else REGISTRY
"""Shared: nothing registers in-process (:func:`exposition` collects the files instead)."""

_pid = os.getpid()


def _after_fork() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_after_fork)


def _process_id() -> int:
    """This process's id, kept: the multiprocess mode asks on every count (with ``os.getpid``,
    a system call each time — about 18 per document), to notice a fork; the fork hook does."""
    return _pid


if os.environ.get(SHARED):
    values.ValueClass = values.MultiProcessValue(_process_id)  # type: ignore[no-untyped-call]


class Reading(Collector):
    """A gauge of the hub as a whole — read from PostgreSQL or the broker by one process (the
    one that serves HTTP), and replaced whole each time, so what is gone (a retired
    certificate, a removed inbox) leaves the exposition. Kept in memory: the per-process files
    of the multiprocess mode can only add values, never drop one."""

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str] = ()) -> None:
        self.name, self.documentation, self.labelnames = name, documentation, tuple(labelnames)
        self.values: dict[tuple[str, ...], float] = {}
        if _registry is not None:
            _registry.register(self)
        _readings.append(self)

    def set(self, value: float) -> None:
        """An unlabelled reading's value."""
        self.values = {(): float(value)}

    def replace(self, values: Mapping[tuple[str, ...], float]) -> None:
        """Every labelled value at once (what is not given is gone)."""
        self.values = {tuple(k): float(v) for k, v in values.items()}

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for labels, value in sorted(self.values.items()):
            family.add_metric(list(labels), value)
        yield family


_readings: list[Reading] = []


_M = TypeVar("_M", bound=MetricWrapperBase)


@functools.cache
def _labelled(metric: MetricWrapperBase, values: tuple[str, ...]) -> MetricWrapperBase:
    return metric.labels(*values)


def labelled(metric: _M, *values: str) -> _M:
    """``metric.labels(*values)``, kept: prometheus-client looks a child up under a lock on
    every count (~1 µs; some ten counts a document). Only for labels from a small fixed set
    (stages, outcomes, lanes), never from outside (a submitter, a reason): the cache keeps
    every child it made."""
    return _labelled(metric, values)  # type: ignore[return-value]


def share_between_processes(directory: Path) -> None:
    """From now on this process and the ones it starts count into files in ``directory``
    (emptied first). Call it before starting any worker process."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, mode=0o700)
    os.environ[SHARED] = str(directory)
    importlib.reload(sys.modules[__name__])  # every metric again, counting into files


def process_gone(pid: int) -> None:
    """A worker process died: its live gauges (in flight …) no longer count."""
    if os.environ.get(SHARED):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def exposition() -> tuple[bytes, str]:
    """The text ``/metrics`` serves: this process's metrics, or every process's added up."""
    if not os.environ.get(SHARED):
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    collected = CollectorRegistry()
    multiprocess.MultiProcessCollector(collected)  # type: ignore[no-untyped-call]
    for reading in _readings:
        collected.register(reading)
    return generate_latest(collected), CONTENT_TYPE_LATEST


ACKS = Counter(
    "lienthong_acks_total",
    "Consumed messages acknowledged: together (one basic.ack with multiple for a run of "
    "delivery tags) or alone",
    ["sent"],
    registry=_registry,
)
ACK_RUNS = Counter(
    "lienthong_ack_runs_total",
    "basic.ack frames with multiple sent (acks together / this: messages per frame)",
    registry=_registry,
)
PACKAGES = Counter(
    "lienthong_packages_total",
    "Submissions decided, by kind, outcome and code",
    ["kind", "outcome", "code"],
    registry=_registry,
)
ACCEPTED_UNSIGNED = Counter(
    "lienthong_accepted_unsigned_total",
    "Packages accepted without an XML-DSig signature (assurance transport: the system's policy "
    "is --unsigned accept), by submitting system",
    ["system"],
    registry=_registry,
)
VXP_REQUESTS = Counter(
    "lienthong_vxp_requests_total",
    "Requests to the national SDK's endpoint (/vxp), by call and outcome (OK or the FAIL code)",
    ["call", "outcome"],
    registry=_registry,
)
DELIVERIES = Counter(
    "lienthong_deliveries_total",
    "Messages published into inboxes, by kind",
    ["kind"],
    registry=_registry,
)
TRIAGED = Counter(
    "lienthong_triaged_total",
    "Submissions placed after ingress: a document handled by the ingress reader itself (here: "
    "ingress was quiet, one broker message saved), or moved into the urgent or ordinary work "
    "lane (also an operator's requeue)",
    ["placed"],
    registry=_registry,
)
DEAD_LETTERS = Counter(
    "lienthong_dead_letters_total",
    "Messages sent to lienthong.dead, by reason",
    ["reason"],
    registry=_registry,
)
CHECKS_OVER_BUDGET = Counter(
    "lienthong_checks_over_budget_total",
    "Submissions refused because their checks outlasted LIENTHONG_CHECK_SECONDS",
    registry=_registry,
)
STAGE_SECONDS = Histogram(
    "lienthong_stage_seconds",
    "Time spent per pipeline stage",
    ["stage"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=_registry,
)
END_TO_END_SECONDS = Histogram(
    "lienthong_end_to_end_seconds",
    "From taken off ingress to confirmed in every recipient's inbox",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=_registry,
)
BATCH_SIZE = Histogram(
    "lienthong_batch_size",
    "Submissions recorded (record) or deliveries marked (mark) per transaction: the group commit",
    ["work"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
    registry=_registry,
)
RETRIES = Counter(
    "lienthong_retries_total",
    "Transient failures retried, by service",
    ["service"],
    registry=_registry,
)
IN_FLIGHT = Gauge(
    "lienthong_in_flight",
    "Submissions being processed by this process",
    registry=_registry,
    multiprocess_mode="livesum",
)
OVERDUE = Reading(
    "lienthong_overdue_deliveries",
    "Delivered documents past their same-day deadline without any status from the recipient",
)
CRL_NEXT_UPDATE = Reading(
    "lienthong_crl_next_update_timestamp_seconds",
    "When each trusted CA's latest CRL says the next one is due (Unix time)",
    ["ca"],
)
CRL_STALE = Reading(
    "lienthong_crl_stale",
    "1 while a trusted CA's latest CRL is past its nextUpdate",
    ["ca"],
)
CRL_REFRESH_FAILURES = Counter(
    "lienthong_crl_refresh_failures_total",
    "CRL downloads that failed, by CA",
    ["ca"],
    registry=_registry,
)
CERT_EXPIRY = Reading(
    "lienthong_certificate_expiry_timestamp_seconds",
    "When each registered agency certificate and trusted CA expires (Unix time)",
    ["organ_id", "fingerprint"],
)
SEALS = Counter(
    "lienthong_seals_total",
    "Seals written over the chain heads by this process",
    registry=_registry,
)
INBOX_DEPTH = Reading(
    "lienthong_inbox_depth",
    "Messages waiting in an agency's inboxes (ready + unacked)",
    ["agency"],
)
DEAD_LETTER_DEPTH = Reading(
    "lienthong_dead_letter_queue_depth",
    "Messages waiting in lienthong.dead",
)
