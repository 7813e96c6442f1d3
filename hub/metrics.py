"""Prometheus metrics of the pipeline (served at /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

PACKAGES = Counter(
    "lienthong_packages_total",
    "Submissions decided, by kind, outcome and code",
    ["kind", "outcome", "code"],
)
ACCEPTED_UNSIGNED = Counter(
    "lienthong_accepted_unsigned_total",
    "Packages accepted without an XML-DSig signature (assurance transport: the system's policy "
    "is --unsigned accept), by submitting system",
    ["system"],
)
VXP_REQUESTS = Counter(
    "lienthong_vxp_requests_total",
    "Requests to the national SDK's endpoint (/vxp), by call and outcome (OK or the FAIL code)",
    ["call", "outcome"],
)
DELIVERIES = Counter(
    "lienthong_deliveries_total", "Messages published into inboxes, by kind", ["kind"]
)
DEAD_LETTERS = Counter(
    "lienthong_dead_letters_total", "Messages sent to lienthong.dead, by reason", ["reason"]
)
CHECKS_OVER_BUDGET = Counter(
    "lienthong_checks_over_budget_total",
    "Submissions refused because their checks outlasted LIENTHONG_CHECK_SECONDS",
)
STAGE_SECONDS = Histogram(
    "lienthong_stage_seconds",
    "Time spent per pipeline stage",
    ["stage"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
END_TO_END_SECONDS = Histogram(
    "lienthong_end_to_end_seconds",
    "From taken off ingress to confirmed in every recipient's inbox",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
BATCH_SIZE = Histogram(
    "lienthong_batch_size",
    "Submissions recorded (record) or deliveries marked (mark) per transaction: the group commit",
    ["work"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
)
RETRIES = Counter("lienthong_retries_total", "Transient failures retried, by service", ["service"])
IN_FLIGHT = Gauge("lienthong_in_flight", "Submissions being processed by this process")
OVERDUE = Gauge(
    "lienthong_overdue_deliveries",
    "Delivered documents past their same-day deadline without any status from the recipient",
)
CRL_NEXT_UPDATE = Gauge(
    "lienthong_crl_next_update_timestamp_seconds",
    "When each trusted CA's latest CRL says the next one is due (Unix time)",
    ["ca"],
)
CRL_STALE = Gauge(
    "lienthong_crl_stale", "1 while a trusted CA's latest CRL is past its nextUpdate", ["ca"]
)
CRL_REFRESH_FAILURES = Counter(
    "lienthong_crl_refresh_failures_total", "CRL downloads that failed, by CA", ["ca"]
)
CERT_EXPIRY = Gauge(
    "lienthong_certificate_expiry_timestamp_seconds",
    "When each registered agency certificate and trusted CA expires (Unix time)",
    ["organ_id", "fingerprint"],
)
SEALS = Counter("lienthong_seals_total", "Seals written over the chain heads by this process")
INBOX_DEPTH = Gauge(
    "lienthong_inbox_depth", "Messages waiting in an agency's inboxes (ready + unacked)", ["agency"]
)
DEAD_LETTER_DEPTH = Gauge("lienthong_dead_letter_queue_depth", "Messages waiting in lienthong.dead")
