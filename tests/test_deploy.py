"""deploy/ for one server (issue 19): the systemd unit passes ``systemd-analyze verify``, the
sysusers file ``systemd-sysusers --dry-run``, and the files agree with each other and with the
hub — every LIENTHONG_* variable they name is one the hub reads, the env file loads, and the
ports and size limits line up (the proxy, Prometheus and the broker see what the hub serves)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from hub import config

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
VARIABLE = re.compile(r"\bLIENTHONG_[A-Z_]+\b")


def env_example() -> dict[str, str]:
    lines = (DEPLOY / "lienthong.env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def read_by_the_hub() -> set[str]:
    """Every LIENTHONG_* name the code reads (a string in hub/, adapters/ or tools/)."""
    names: set[str] = set()
    for folder in ("hub", "adapters", "tools"):
        for source in (ROOT / folder).rglob("*.py"):
            names |= set(re.findall(r'"(LIENTHONG_[A-Z_]+)"', source.read_text()))
    return names


def test_every_variable_deploy_names_is_one_the_hub_reads() -> None:
    known = read_by_the_hub()
    assert set(config.DEFAULTS) <= known
    for path in DEPLOY.rglob("*"):
        if path.is_file():
            unknown = set(VARIABLE.findall(path.read_text())) - known
            assert not unknown, f"{path.relative_to(ROOT)} names {sorted(unknown)}"


def test_the_env_file_loads_and_the_ports_line_up() -> None:
    env = env_example()
    settings = config.load(env)
    http_host, http_port = settings.http_host, settings.http_port
    assert http_host == "127.0.0.1"  # behind the proxy
    assert urlsplit(settings.database_url).query == "host=/var/run/postgresql"  # peer, no password

    nginx = (DEPLOY / "nginx" / "lienthong.conf").read_text()
    assert re.search(rf"server 127\.0\.0\.1:{http_port};", nginx)
    body = re.search(r"client_max_body_size (\d+)m;", nginx)
    assert body and int(body.group(1)) * 1024 * 1024 >= settings.max_package_bytes

    prometheus = (DEPLOY / "monitoring" / "prometheus.yml").read_text()
    assert f'"127.0.0.1:{http_port}"' in prometheus

    rabbit = (DEPLOY / "rabbitmq" / "rabbitmq.conf").read_text()
    settings_of = dict(
        (k.strip(), v.split("#")[0].strip())
        for k, _, v in (line.partition("=") for line in rabbit.splitlines())
        if v and not k.startswith("#")
    )
    amqp = urlsplit(settings.amqp.url)
    assert settings_of["listeners.tcp.default"] == f"{amqp.hostname}:{amqp.port}"
    assert settings_of["listeners.ssl.default"] == "5671"
    assert int(settings_of["max_message_size"]) > settings.max_package_bytes
    assert f'"127.0.0.1:{settings_of["prometheus.tcp.port"]}"' in prometheus
    assert settings.amqp.user != "guest"


def test_the_unit_runs_what_the_wrapper_and_the_docs_say() -> None:
    unit = (DEPLOY / "systemd" / "lienthong.service").read_text()
    wrapper = (DEPLOY / "bin" / "lienthong").read_text()
    env_file = re.search(r"^EnvironmentFile=(\S+)", unit, re.M)
    assert env_file and f"--env-file {env_file.group(1)}" in wrapper
    assert "StateDirectory=lienthong" in unit
    assert "ExecStartPre" not in unit  # migrations are an upgrade step, after a backup
    assert re.search(r"^ExecStart=\S+ serve --workers \d+$", unit, re.M)
    assert "LIENTHONG_HOME=/var/lib/lienthong" in (DEPLOY / "lienthong.env.example").read_text()
    assert subprocess.run(["sh", "-n", str(DEPLOY / "bin" / "lienthong")]).returncode == 0


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_accepts_the_unit_and_the_user(tmp_path: Path) -> None:
    unit = (DEPLOY / "systemd" / "lienthong.service").read_text()
    # the paths of an installed server, pointed at this checkout's
    unit = unit.replace("/opt/lienthong/bin/lienthong", str(ROOT / ".venv" / "bin" / "lienthong"))
    unit = unit.replace("/etc/lienthong/lienthong.env", str(DEPLOY / "lienthong.env.example"))
    (tmp_path / "lienthong.service").write_text(unit)
    verified = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "lienthong.service")],
        capture_output=True,
        text=True,
    )
    assert verified.returncode == 0 and verified.stderr == "", verified.stderr
    users = subprocess.run(
        ["systemd-sysusers", "--dry-run", str(DEPLOY / "systemd" / "lienthong.sysusers.conf")],
        capture_output=True,
        text=True,
    )
    assert users.returncode == 0, users.stderr
