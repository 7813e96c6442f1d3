"""Print the figures and ratios, write the JSON result and the PNG plot."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

TARGETS = {  # issue 18, on this 2-core machine with RabbitMQ and PostgreSQL on it
    "small_1": 300.0,  # documents/s sustained end to end, small packages, one recipient
    "hub_cpu_ms": 2.0,  # the hub's processor time per small document
    "latency_p99_ms": 100.0,  # at half the small-document throughput
    "large_1": 120.0,  # documents/s, 200 KB packages
    "huge_growth": 2.0,  # hub memory growth over the package size for a 64 MiB package
    "hub_over_naive": 1.0,  # the hub's small-document throughput over the naive pipeline's
}


DIRECTORY_TARGETS = {
    "import_s": 60.0,  # importing the national directory (111,339 agencies)
    "startup_s": 5.0,  # a hub's registry loaded
    "registry_mb": 300.0,  # a hub process's memory for the registry
    "change_s": 1.0,  # one change reaching a running hub
    "throughput_ratio": 0.9,  # small documents with the directory / with a handful of agencies
}


NATIONAL_TARGETS = {
    "vxp_over_gateway": 0.9,  # documents/s through /vxp/sendEdoc over the gateway's, same packages
    "auth_p50_ms": 10.0,  # an authenticated national-SDK call that reads one count (p50)
}


PARTIES = (
    ("hub", "hub"),
    ("rabbitmq", "RabbitMQ"),
    ("postgresql", "PostgreSQL"),
    ("driver", "driver"),
)


def ceiling(ms_per_document: dict[str, float], cpus: int) -> float:
    """Documents/s this machine could do if every party's processor time per document stayed
    as measured and every core were busy."""
    total = sum(ms_per_document.values())
    return cpus * 1000 / total if total else float("nan")


def cpu_rows(row: Callable[[str, str], None], phase: dict[str, Any], cpus: int) -> None:
    per_document = phase.get("cpu_ms_per_document") or {}
    if not per_document:
        return
    row(
        "  CPU ms per document: " + " / ".join(name for _, name in PARTIES) + " / other",
        " / ".join(f"{per_document[key]:.1f}" for key, _ in PARTIES)
        + f" / {per_document['other']:.1f}",
    )
    busy = sum(phase["cores_busy"].values())
    row(
        f"  cores busy (of {cpus}); ceiling at this cost",
        f"{busy:.2f}; {ceiling(per_document, cpus):.0f}/s",
    )


def show(result: dict[str, Any], console: Console) -> None:
    table = Table(title="lienthong bench", show_lines=False)
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")

    def row(name: str, value: str, target: str = "") -> None:
        table.add_row(name, value, target)

    small, fan, large = result["small_1"], result["small_5"], result["large_1"]
    row(
        f"small (~{small['package_bytes'] / 1024:.0f} KB), 1 recipient: accepted/s",
        f"{small['accepted_per_s']:.0f}",
        f"≥ {TARGETS['small_1']:.0f}",
    )
    row("  delivered/s", f"{small['delivered_per_s']:.0f}")
    if "database_bytes_per_document" in small:
        row(
            "  PostgreSQL growth per document (KB; disk sizing)",
            f"{small['database_bytes_per_document'] / 1024:.1f}",
        )
    cpu_rows(row, small, result["machine"]["cpus"])
    latency = result["latency_at_half"]
    hub_ms = (small.get("cpu_ms_per_document") or {}).get("hub")
    if hub_ms is not None:
        row(
            "  hub processor time per document (ms)",
            f"{hub_ms:.2f}",
            f"≤ {TARGETS['hub_cpu_ms']:.1f}",
        )
    if "naive" in result:
        naive = result["naive"]
        row(
            "naive pipeline (lxml + signxml + insert + confirm), same packages: docs/s",
            f"{naive['per_s']:.0f}",
        )
        row("  its processor time per document (ms)", f"{naive['cpu_ms_per_document']:.2f}")
        row(
            "  hub / naive pipeline",
            f"{result['hub_over_naive']:.2f}",
            f"≥ {TARGETS['hub_over_naive']:.1f}",
        )
    row(
        f"latency p50 / p95 / p99 at {latency['rate_per_s']:.0f}/s (ms)",
        f"{latency['p50_ms']:.0f} / {latency['p95_ms']:.0f} / {latency['p99_ms']:.0f}",
        f"p99 ≤ {TARGETS['latency_p99_ms']:.0f} at half",
    )
    row("small, 5 recipients: accepted/s", f"{fan['accepted_per_s']:.0f}")
    row("  delivered (documents x recipients)/s", f"{fan['delivered_per_s'] * 5:.0f}")
    row(
        "200 KB, 1 recipient: accepted/s",
        f"{large['accepted_per_s']:.0f}",
        f"≥ {TARGETS['large_1']:.0f}",
    )
    cpu_rows(row, large, result["machine"]["cpus"])
    huge = result["huge"]
    row(
        f"{huge['package_bytes'] / 2**20:.0f} MiB package delivered (a claim check, fetched)",
        str(huge["delivered"]),
    )
    row(
        "  hub memory growth / package size",
        f"{huge['growth_over_size']:.1f}x",
        f"≤ {TARGETS['huge_growth']:.0f}x",
    )
    giant = result.get("giant")
    if giant is not None:
        row(
            f"{giant['package_bytes'] / 2**20:.0f} MiB package, SDK to SDK (HTTP upload, "
            "claim check): delivered byte for byte",
            f"{giant['delivered']} in {giant['delivered_s']:.0f} s",
            "yes",
        )
        row("  hub memory growth / package size", f"{giant['growth_over_size']:.1f}x")
    row("hub peak memory (all processes)", f"{result['hub_memory']['peak'] / 1e6:.0f} MB")
    for stage in result["stages"]:
        row(f"stage alone: {stage['stage']}", f"{stage['per_second']:.0f}/s")
    row("hub throughput / slowest stage", f"{result['hub_over_slowest_stage']:.2f}")
    if "directory" in result:
        directory_rows(row, result["directory"])
    if "national" in result:
        national_rows(row, result["national"])
    if "cluster" in result:
        c = result["cluster"]
        row(
            "cluster (3 RabbitMQ nodes, PostgreSQL + sync standby): small, 1 recipient, accepted/s",
            f"{c['small_1']['accepted_per_s']:.0f}",
            f"{c['small_1']['accepted_per_s'] / small['accepted_per_s']:.2f} of one node",
        )
        lat = c["latency_at_half"]
        row(
            f"  cluster latency p50 / p95 / p99 at {lat['rate_per_s']:.0f}/s (ms)",
            f"{lat['p50_ms']:.0f} / {lat['p95_ms']:.0f} / {lat['p99_ms']:.0f}",
        )
    console.print(table)


def directory_rows(row: Callable[..., None], d: dict[str, Any]) -> None:
    """The directory phase, each figure beside its target (issue 14)."""
    t = DIRECTORY_TARGETS
    row(
        f"directory: {d['agencies']:,} agencies under {d['systems']} systems — import (s)",
        f"{d['import_s']:.1f}",
        f"≤ {t['import_s']:.0f} ({d['import_s'] / t['import_s']:.2f} of it)",
    )
    row(
        "  set-up: systems provisioned / certificates / CRL (s)",
        f"{d['provision_systems_s']:.0f} / {d['certificates_s']:.0f} / {d['crl_s']:.1f}",
    )
    row(
        f"  registry load at start ({d['registry_certificates']:,} certificates, "
        f"{d['registry_revoked']:,} revoked) (s)",
        f"{d['startup_s']:.2f}",
        f"≤ {t['startup_s']:.0f} ({d['startup_s'] / t['startup_s']:.2f} of it)",
    )
    row("  `lienthong serve` started to ready, all processes (s)", f"{d['hub_ready_s']:.1f}")
    row(
        "  registry memory in a hub process (MB)",
        f"{d['registry_bytes'] / 1e6:.0f}",
        f"≤ {t['registry_mb']:.0f} ({d['registry_bytes'] / 1e6 / t['registry_mb']:.2f} of it)",
    )
    row(
        "  one change reaches a running hub (s)",
        f"{d['change_s']:.3f}",
        f"≤ {t['change_s']:.0f} ({d['change_s'] / t['change_s']:.3f} of it)",
    )
    row("  a look with nothing changed (ms)", f"{d['idle_look_ms']:.1f}")
    row(
        f"  broker queues / users for {d['broker_systems']} systems provisioned "
        "(per-agency model: queues)",
        f"{d['broker_queues']} / {d['broker_users']} ({d['per_agency_model_queues']:,})",
    )
    row(
        "  small, 1 recipient, with the directory: accepted/s",
        f"{d['small_1']['accepted_per_s']:.0f}",
    )
    row(
        "  throughput with the directory / with 9 agencies",
        f"{d['throughput_ratio']:.2f}",
        f"≥ {t['throughput_ratio']:.1f}",
    )


def national_rows(row: Callable[..., None], n: dict[str, Any]) -> None:
    """The national SDK's endpoint beside the gateway (issue 15)."""
    t = NATIONAL_TARGETS
    for key, label in (
        ("gateway", "gateway POST /api/v1/documents"),
        ("vxp_send", "/vxp/sendEdoc"),
    ):
        f = n[key]
        row(
            f"national SDK phase, {n['clients']} clients: {label} — documents/s, p50 / p95 (ms)",
            f"{f['per_s']:.0f}, {f['p50_ms']:.0f} / {f['p95_ms']:.0f}",
        )
    row(
        "  /vxp/sendEdoc over the gateway (same packages)",
        f"{n['vxp_over_gateway']:.2f}",
        f"≥ {t['vxp_over_gateway']:.1f}",
    )
    c = n["vxp_count"]
    row(
        "  an authenticated national-SDK call (countReceiveEdoc), one at a time: calls/s, p50 (ms)",
        f"{c['per_s']:.0f}, {c['p50_ms']:.1f}",
        f"p50 ≤ {t['auth_p50_ms']:.0f} ({c['p50_ms'] / t['auth_p50_ms']:.2f} of it)",
    )


def write(result: dict[str, Any], output: Path) -> tuple[Path, Path | None]:
    json_path = output / "bench.json"
    json_path.write_text(json.dumps(result, indent=2, default=str))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return json_path, None
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6.5))
    series = result["series"]["small_1"]
    top.plot([s for s, _ in series], [n for _, n in series], marker="o", markersize=3)
    top.set_title("Deliveries per second, small packages at full speed")
    top.set_xlabel("seconds")
    top.set_ylabel("documents/s")
    latency = result["series"]["latency"]
    bottom.scatter([t for t, _ in latency], [ms for _, ms in latency], s=4)
    bottom.set_title(
        f"End-to-end latency at {result['latency_at_half']['rate_per_s']:.0f} documents/s"
    )
    bottom.set_xlabel("seconds")
    bottom.set_ylabel("ms (submitted → recipient)")
    figure.tight_layout()
    png_path = output / "bench.png"
    figure.savefig(png_path, dpi=110)
    plt.close(figure)
    return json_path, png_path
