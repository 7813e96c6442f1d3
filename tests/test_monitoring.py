"""deploy/monitoring: the alert rules pass `promtool check rules`, and every metric the rules and
the Grafana dashboard use is one the hub exports (so neither rots when a metric is renamed)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from prometheus_client import REGISTRY

import hub.metrics  # noqa: F401  (registers the hub's metrics)

MONITORING = Path(__file__).resolve().parent.parent / "deploy" / "monitoring"
METRIC = re.compile(r"\blienthong_[a-z_]+")


def exported() -> set[str]:
    names = set()
    for family in REGISTRY.collect():
        for suffix in ("", "_total", "_bucket", "_count", "_sum"):
            names.add(family.name + suffix)
    return names


def test_alert_rules_pass_promtool() -> None:
    ran = subprocess.run(
        ["promtool", "check", "rules", str(MONITORING / "alerts.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "SUCCESS: 10 rules found" in ran.stdout
    config = subprocess.run(
        ["promtool", "check", "config", str(MONITORING / "prometheus.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert config.returncode == 0, config.stdout + config.stderr


def test_rules_and_dashboard_use_only_metrics_the_hub_exports() -> None:
    rules = (MONITORING / "alerts.yml").read_text()
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = set(METRIC.findall(rules)) | {m for e in exprs for m in METRIC.findall(e)}
    assert used, "no lienthong metric found"
    assert not used - exported(), f"unknown metrics: {sorted(used - exported())}"
    for alert in (
        "HubDown",
        "Overdue",
        "Backlog",
        "DeadLetters",
        "CertificateExpiring",
        "CrlStale",
    ):
        assert f"Lienthong{alert}" in rules
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])


def test_a_kept_child_counts_into_the_series_labels_names() -> None:
    """hub.metrics.labelled keeps the child it looked up: the same object every time, counting
    into the series ``labels`` names (what /metrics shows)."""
    from hub import metrics

    kept = metrics.labelled(metrics.STAGE_SECONDS, "check")
    assert kept is metrics.labelled(metrics.STAGE_SECONDS, "check")
    assert kept is not metrics.labelled(metrics.STAGE_SECONDS, "record")
    before = REGISTRY.get_sample_value("lienthong_stage_seconds_count", {"stage": "check"}) or 0
    kept.observe(0.001)
    metrics.STAGE_SECONDS.labels("check").observe(0.002)
    after = REGISTRY.get_sample_value("lienthong_stage_seconds_count", {"stage": "check"})
    assert after == before + 2
