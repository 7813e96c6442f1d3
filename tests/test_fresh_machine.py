"""The set-up on a stock Debian PostgreSQL (issue 19): a cluster made by ``pg_createcluster``
keeps Debian's default pg_hba.conf (peer on the socket, scram-sha-256 over TCP), where the
hub's password-less default URL is refused. scripts/database-access.sh gives the hub a role of
its own only on a server this set-up installed, and changes nothing in anyone else's."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.harness import free_port

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "database-access.sh"

pytestmark = pytest.mark.skipif(
    shutil.which("pg_createcluster") is None or os.geteuid() != 0,
    reason="needs Debian's postgresql-common (pg_createcluster) and root to make a cluster",
)


@pytest.fixture
def stock_cluster() -> Iterator[tuple[int, Path]]:
    """A fresh PostgreSQL cluster with Debian's default authentication: (port, pg_hba.conf)."""
    version = sorted(os.listdir("/etc/postgresql"), key=lambda v: [int(p) for p in v.split(".")])[
        -1
    ]
    name, port = f"lt_fresh_{uuid.uuid4().hex[:8]}", free_port()
    subprocess.run(
        ["pg_createcluster", version, name, "-p", str(port), "--start"],
        check=True,
        capture_output=True,
    )
    try:
        yield port, Path(f"/etc/postgresql/{version}/{name}/pg_hba.conf")
    finally:
        subprocess.run(
            ["pg_dropcluster", "--stop", version, name], check=False, capture_output=True
        )


def set_up(port: int, state: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "LIENTHONG_PG_PORT": str(port),
        "LIENTHONG_SETUP_STATE": str(state),
    }
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_set_up_gives_its_own_server_a_role_and_leaves_others_alone(
    stock_cluster: tuple[int, Path], tmp_path: Path
) -> None:
    port, hba = stock_cluster
    rules = [line.split() for line in hba.read_text().splitlines() if line.startswith("host")]
    assert rules and all(rule[-1] == "scram-sha-256" for rule in rules)  # Debian's default
    before = digest(hba)
    state = tmp_path / "setup"

    # a server this set-up did not install: refused with what to do, nothing changed
    refused = set_up(port, state)
    assert refused.returncode == 1
    assert "did not install that server" in refused.stderr
    assert "createuser" in refused.stderr and "LIENTHONG_DATABASE_URL" in refused.stderr
    assert not (state / "database.env").exists() and digest(hba) == before

    # one it installed (scripts/services.sh notes it): a role with a password, kept 0600
    state.mkdir(mode=0o700)
    (state / "installed").write_text("postgresql\nrabbitmq-server\n")
    made = set_up(port, state)
    assert made.returncode == 0, made.stderr
    assert "made the role lienthong" in made.stdout
    saved = state / "database.env"
    assert saved.stat().st_mode & 0o077 == 0 and digest(hba) == before
    values = dict(line.split("=", 1) for line in saved.read_text().splitlines() if "=" in line)
    url = values["LIENTHONG_DATABASE_URL"]
    assert url.startswith("postgresql://lienthong:") and url.endswith(f":{port}/lienthong")

    # make demo's and make test's commands see it, and the hub's migrate works with it
    shown = subprocess.run(
        ["bash", str(ROOT / "scripts" / "with-setup-env.sh"), "env"],
        env={"PATH": os.environ["PATH"], "LIENTHONG_SETUP_STATE": str(state)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert f"LIENTHONG_DATABASE_URL={url}" in shown.splitlines()
    migrated = subprocess.run(
        [sys.executable, "-m", "hub.cli", "migrate"],
        env={**os.environ, "LIENTHONG_DATABASE_URL": url, "LIENTHONG_HOME": str(tmp_path / "h")},
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert migrated.returncode == 0, migrated.stderr

    async def schema_version() -> int:
        db = await asyncpg.connect(url)
        try:
            return int(await db.fetchval("SELECT max(version) FROM schema_migration"))
        finally:
            await db.close()

    assert asyncio.run(schema_version()) >= 8

    # again: nothing to do, nothing changed
    again = set_up(port, state)
    assert again.returncode == 0 and again.stdout == "" and saved.read_text().endswith(f":{port}\n")
    assert values == dict(
        line.split("=", 1) for line in saved.read_text().splitlines() if "=" in line
    )
