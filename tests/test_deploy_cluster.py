"""deploy/ for a cluster (issue 17): Docker and Kubernetes cannot run here, so what can be
checked offline is: the compose file against the Compose specification's schema
(check-jsonschema ships it), the Helm chart rendered by a small stand-in for `helm template`
(every `.Values` it uses exists) with the probes, disruption budget and monitor a cluster needs,
the RabbitMQ definitions, and the PostgreSQL settings against the server's own list. That every
LIENTHONG_* name in deploy/ is one the hub reads is tests/test_deploy.py's."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
CHART = DEPLOY / "helm" / "lienthong"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


def load_yaml(text: str) -> list[Any]:
    return [d for d in YAML(typ="safe").load_all(io.StringIO(text)) if d is not None]


def validate_compose(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_compose_file_is_a_valid_compose_file(tmp_path: Path) -> None:
    compose = DEPLOY / "compose" / "compose.yaml"
    checked = validate_compose(compose)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    broken = tmp_path / "compose.yaml"
    broken.write_text(
        compose.read_text().replace("    restart: unless-stopped", "    restart: 3", 1)
    )
    assert validate_compose(broken).returncode != 0  # the validation can fail


def test_the_compose_cluster_hangs_together() -> None:
    [compose] = load_yaml((DEPLOY / "compose" / "compose.yaml").read_text())
    services = compose["services"]
    brokers = sorted(name for name in services if name.startswith("rabbitmq"))
    assert brokers == ["rabbitmq1", "rabbitmq2", "rabbitmq3"]
    hubs = [name for name in services if name.startswith("hub")]
    assert len(hubs) >= 2
    for name in hubs:
        env = services[name]["environment"]
        nodes = [
            urlpart.split("@")[1].split(":")[0] for urlpart in env["LIENTHONG_AMQP_URL"].split(",")
        ]
        assert nodes == brokers
        hosts = env["LIENTHONG_DATABASE_URL"].split("@")[1].split("/")[0].split(",")
        assert [h.split(":")[0] for h in hosts] == ["postgres-primary", "postgres-standby"]
        assert "target_session_attrs=read-write" in env["LIENTHONG_DATABASE_URL"]
        assert "/healthz" in " ".join(services[name]["healthcheck"]["test"])
    for service in services.values():  # every file it mounts is in deploy/
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / "compose" / source).resolve().exists(), source
    assert {"prometheus", "grafana", "postgres-primary", "postgres-standby"} <= set(services)


def render(template: str, values: dict[str, Any]) -> str:
    """`helm template` for what this chart uses: `.Values` paths, `| quote`, `if`/`end`."""

    def lookup(path: str) -> Any:
        value: Any = values
        for part in path.split("."):
            assert isinstance(value, dict) and part in value, f".Values.{path} is not in values"
            value = value[part]
        return value

    def if_block(match: re.Match[str]) -> str:
        return match.group(2) if lookup(match.group(1)) else ""

    template = re.sub(
        r"\{\{-? if \.Values\.([\w.]+) \}\}(.*?)\{\{-? end \}\}", if_block, template, flags=re.S
    )

    def value(match: re.Match[str]) -> str:
        found = lookup(match.group(1))
        return json.dumps(str(found)) if match.group(2) else str(found)

    rendered = re.sub(r"\{\{ \.Values\.([\w.]+)( \| quote)? \}\}", value, template)
    assert "{{" not in rendered, f"the stand-in renderer does not know: {rendered[:200]}"
    return rendered


def test_the_helm_chart_renders_to_what_a_cluster_needs() -> None:
    [chart] = load_yaml((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2" and chart["name"] == "lienthong"
    [values] = load_yaml((CHART / "values.yaml").read_text())
    documents = [
        doc
        for template in sorted((CHART / "templates").glob("*.yaml"))
        for doc in load_yaml(render(template.read_text(), values))
    ]
    kinds = {doc["kind"]: doc for doc in documents}
    assert {"Deployment", "Service", "ConfigMap", "PodDisruptionBudget", "ServiceMonitor"} <= set(
        kinds
    )
    hub = kinds["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert hub["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert hub["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert hub["args"] == ["serve", "--workers", str(values["workers"])]
    assert kinds["PodDisruptionBudget"]["spec"]["minAvailable"] < values["replicaCount"]
    assert kinds["ServiceMonitor"]["spec"]["endpoints"][0]["path"] == "/metrics"
    assert set(kinds["ConfigMap"]["data"]) == set(values["config"])


def test_the_rabbitmq_definitions_give_the_hub_its_user_and_no_guest() -> None:
    definitions = json.loads((DEPLOY / "rabbitmq" / "definitions.json").read_text())
    users = {u["name"]: u for u in definitions["users"]}
    assert "guest" not in users and "administrator" in users["lienthong-hub"]["tags"]
    assert {(p["user"], p["vhost"]) for p in definitions["permissions"]} == {("lienthong-hub", "/")}
    cluster = (DEPLOY / "rabbitmq" / "cluster.conf").read_text()
    assert "quorum_queue.initial_cluster_size = 3" in cluster


@pytest.mark.skipif(
    not Path("/usr/lib/postgresql").is_dir() or shutil.which("runuser") is None,
    reason="PostgreSQL's binaries list the settings it knows",
)
def test_the_postgresql_settings_are_ones_postgresql_knows() -> None:
    version = sorted(p.name for p in Path("/usr/lib/postgresql").iterdir())[-1]
    described = subprocess.run(
        [
            "runuser",
            "-u",
            "postgres",
            "--",
            f"/usr/lib/postgresql/{version}/bin/postgres",
            "--describe-config",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    known = {line.split("\t")[0] for line in described.splitlines()}
    lines = (DEPLOY / "postgresql" / "lienthong.conf").read_text().splitlines()
    used = {line.split("=")[0].strip() for line in lines if line.strip() and line[0] != "#"}
    assert used and used <= known, sorted(used - known)
