"""The command line as an operator uses it: subprocesses with an isolated environment."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from adapters import national_sdk
from hub.broker.management import Management
from hub.config import Settings
from hub.registry import issuing, pki
from hub.registry.tokens import token_hash
from tests.harness import free_port


def lienthong(
    env: dict[str, str], *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "tools.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"lienthong {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        )
    return result


async def snapshot(settings: Settings, organs: list[str]) -> dict[str, object]:
    """Everything `make demo` could change: rows, files, broker users and queues."""
    db = await asyncpg.connect(settings.database_url)
    try:
        tables = {}
        # the set-up; the exchange itself adds documents, deliveries and events every run
        for table in ("agency", "agency_certificate", "trusted_ca", "schema_migration", "operator"):
            rows = await db.fetch(f"SELECT * FROM {table} ORDER BY 1")
            # last_seen_at is activity (the exchange), not set-up
            tables[table] = [tuple(v for k, v in r.items() if k != "last_seen_at") for r in rows]
    finally:
        await db.close()
    files = {
        str(p.relative_to(settings.home)): (
            hashlib.sha256(p.read_bytes()).hexdigest(),
            p.stat().st_mtime_ns,
        )
        for p in sorted(settings.home.rglob("*"))
        if p.is_file()
        and not {"sdk", "vxp-demo", "vxp-driver"} & set(p.relative_to(settings.home).parts)
    }
    async with Management(settings.amqp) as api:
        users = {o: await api.get_user(o) for o in organs}
        queues = sorted(q["name"] for q in await api.queues(settings.amqp.vhost))
    return {"tables": tables, "files": files, "users": users, "queues": queues}


async def test_a_second_demo_changes_nothing(env, settings, organ_ids) -> None:
    first, second = organ_ids.new(), organ_ids.new()
    system, third = organ_ids.new(), organ_ids.new()
    env = {
        **env,
        "LIENTHONG_DEMO_AGENCIES": f"{first}=Văn phòng thử;{second}=UBND thử",
        "LIENTHONG_DEMO_VXP": f"{system}={third}=UBND tỉnh thử",
        "LIENTHONG_HTTP": f"127.0.0.1:{free_port()}",
    }
    result = lienthong(env, "demo", "--once")
    assert f"registered agency {first}" in result.stdout
    assert "the hub is set up" in result.stdout
    # the exchange: sent through the SDK, answered 01 and 03 over HTTP, timeline printed
    assert "receipt accepted" in result.stdout
    assert "answered 01 (Đã đến): accepted" in result.stdout
    assert "answered 03" in result.stdout
    assert f"received statuses: 01 from {second}, 03 from {second}" in result.stdout
    assert "timeline" in result.stdout and "delivered" in result.stdout
    if national_sdk.sdk_home().is_dir() and shutil.which("javac"):
        # the national SDK (Java) sends to the Python SDK's agency and reads its statuses
        assert f"{third} (national SDK, Java, system {system}) sent" in result.stdout
        assert ": OK 0" in result.stdout
        assert f"received status 01 from {first}" in result.stdout
        assert f"received status 03 from {first}" in result.stdout
        assert "receiveStatus 03" in result.stdout
        assert "getAgenciesList: OK" in result.stdout
    saved = json.loads((settings.agencies_dir / first / "credentials.json").read_text())
    assert saved["organ_id"] == first and saved["amqp_password"] and saved["http_token"]
    # an admin for the dashboard, its token kept and said where
    token_file = settings.home / "demo-operator.token"
    assert (
        f"dashboard: http://{env['LIENTHONG_HTTP']}/ — sign in with the token in" in result.stdout
    )
    assert str(token_file) in result.stdout and token_file.stat().st_mode & 0o077 == 0
    db = await asyncpg.connect(settings.database_url)
    try:
        role = await db.fetchval(
            "SELECT role FROM operator WHERE token_hash = $1 AND disabled_at IS NULL",
            token_hash(token_file.read_text().strip()),
        )
    finally:
        await db.close()
    assert role == "admin"
    before = await snapshot(settings, [first, second, system])
    result = lienthong(env, "demo", "--once")
    assert "nothing changed" in result.stdout
    assert "receipt accepted" in result.stdout
    assert await snapshot(settings, [first, second, system]) == before


def test_agency_add_json_and_suspend(env, organ_ids) -> None:
    lienthong(env, "migrate")
    lienthong(env, "ca", "init")
    organ = organ_ids.new()
    result = lienthong(env, "agency", "add", organ, "--name", "Sở thử nghiệm", "--issue", "--json")
    data = json.loads(result.stdout)
    assert {"organ_id", "amqp_user", "amqp_password", "http_token", "cert_path", "key_path"} <= set(
        data
    )
    assert data["organ_id"] == data["amqp_user"] == organ
    assert Path(data["cert_path"]).exists()
    listed = json.loads(lienthong(env, "agency", "list", "--json").stdout)
    assert [a["organ_id"] for a in listed] == [organ]
    assert "suspended" in lienthong(env, "agency", "suspend", organ).stdout
    assert json.loads(lienthong(env, "agency", "list", "--json").stdout)[0]["state"] == "suspended"
    assert "resumed" in lienthong(env, "agency", "resume", organ).stdout


def test_untrusted_certificate_is_refused_by_the_command(env, organ_ids, tmp_path) -> None:
    lienthong(env, "migrate")
    lienthong(env, "ca", "init")
    key, ca = issuing.make_ca("stranger")
    _, cert = issuing.issue(key, ca, issuing.IssueRequest(common_name="x"))
    (tmp_path / "x.pem").write_text(pki.pem(cert))
    (tmp_path / "ca.pem").write_text(pki.pem(ca))
    organ = organ_ids.new()
    result = lienthong(
        env, "agency", "add", organ, "--name", "x", "--cert", str(tmp_path / "x.pem"), check=False
    )
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error:")
    assert "does not chain to a CA this hub trusts" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    lienthong(env, "ca", "trust", str(tmp_path / "ca.pem"))
    lienthong(env, "agency", "add", organ, "--name", "x", "--cert", str(tmp_path / "x.pem"))


@pytest.mark.parametrize(
    ("override", "says"),
    [
        (
            {"LIENTHONG_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/x"},
            "cannot reach PostgreSQL",
        ),
        ({"LIENTHONG_AMQP_URL": "amqp://guest:guest@127.0.0.1:1/"}, "cannot reach RabbitMQ"),
        ({"LIENTHONG_AMQP_URL": "nonsense"}, "LIENTHONG_AMQP_URL='nonsense' is not an AMQP URL"),
        ({"LIENTHONG_MAX_PACKAGE_BYTES": "lots"}, "LIENTHONG_MAX_PACKAGE_BYTES"),
    ],
)
def test_a_wrong_setting_stops_with_one_clear_line(env, override, says) -> None:
    lienthong(env, "migrate")
    result = lienthong(
        {**env, **override}, "agency", "add", "000.00.00.G22", "--name", "x", check=False
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:") and says in lines[0]
    assert "Traceback" not in result.stderr


def test_a_missing_development_ca_is_explained(env) -> None:
    lienthong(env, "migrate")
    result = lienthong(env, "agency", "add", "000.00.00.G22", "--name", "x", "--issue", check=False)
    assert result.returncode == 1
    assert "run `lienthong ca init` first" in result.stderr


def test_an_agency_keeps_its_key_and_sends_a_request(env, organ_ids, tmp_path) -> None:
    """``--issue`` keeps the agency's key on the hub (development only, and it says so);
    ``agency csr sign`` certifies a key the agency made itself."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    lienthong(env, "migrate")
    lienthong(env, "ca", "init")
    issued = organ_ids.new()
    result = lienthong(env, "agency", "add", issued, "--name", "dev", "--issue", "--json")
    assert "development and tests only" in result.stderr and "csr sign" in result.stderr

    organ = organ_ids.new()
    lienthong(env, "agency", "add", organ, "--name", "Sở thử nghiệm")

    def request(bits: int) -> Path:
        key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        csr = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.COMMON_NAME, "Sở thử nghiệm"),
                        x509.NameAttribute(NameOID.USER_ID, "000.00.00.G22"),  # not believed
                    ]
                )
            )
            .sign(key, hashes.SHA256())
        )
        path = tmp_path / f"{bits}.csr"
        path.write_bytes(csr.public_bytes(serialization.Encoding.PEM))
        return path

    weak = lienthong(
        env,
        "agency",
        "csr",
        "sign",
        organ,
        str(request(1024)),
        "-o",
        str(tmp_path / "w.pem"),
        check=False,
    )
    assert weak.returncode == 1 and "1024 bits" in weak.stderr
    made = tmp_path / "agency.pem"
    lienthong(env, "agency", "csr", "sign", organ, str(request(2048)), "-o", str(made))
    cert = x509.load_pem_x509_certificate(made.read_bytes())
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.USER_ID)] == [organ]
    listed = {
        a["organ_id"]: a for a in json.loads(lienthong(env, "agency", "list", "--json").stdout)
    }
    assert listed[organ]["certificates"] == 1


def test_system_secret_rotate_shows_a_new_secret_once(env, organ_ids) -> None:
    lienthong(env, "migrate")
    system = organ_ids.new()
    made = json.loads(
        lienthong(env, "system", "add", system, "--name", "Nền tảng thử", "--json").stdout
    )
    rotated = json.loads(
        lienthong(env, "system", "secret", "rotate", system, "--grace-hours", "1", "--json").stdout
    )
    assert rotated["system_id"] == system
    assert rotated["vxp_secret"] and rotated["vxp_secret"] != made["vxp_secret"]
    assert rotated["previous_valid_until"]
    again = lienthong(env, "system", "secret", "rotate", system, "--grace-hours", "0").stdout
    assert "shown once" in again and rotated["vxp_secret"] not in again
    missing = lienthong(env, "system", "secret", "rotate", "no.such.system", check=False)
    assert missing.returncode == 1 and "not registered" in missing.stderr


async def test_a_demo_in_a_second_checkout_recovers(env, organ_ids, tmp_path) -> None:
    """The database already holds the demo's agencies, set up by another checkout whose
    credentials this one does not have: the demo issues its own and says so."""
    first, second = organ_ids.new(), organ_ids.new()
    system, third = organ_ids.new(), organ_ids.new()
    env = {
        **env,
        "LIENTHONG_DEMO_AGENCIES": f"{first}=Văn phòng thử;{second}=UBND thử",
        "LIENTHONG_DEMO_VXP": f"{system}={third}=UBND tỉnh thử",
        "LIENTHONG_HTTP": f"127.0.0.1:{free_port()}",
    }
    assert "receipt accepted" in lienthong(env, "demo", "--once").stdout
    other = {**env, "LIENTHONG_HOME": str(tmp_path / "another-checkout")}
    result = lienthong(other, "demo", "--once")
    assert f"agency {first} (Văn phòng thử) was registered, but its credentials" in result.stdout
    assert "operator demo-" in result.stdout  # the first checkout's "demo" is left alone
    assert "receipt accepted" in result.stdout
    assert "answered 03" in result.stdout
    assert "nothing changed" in lienthong(other, "demo", "--once").stdout


def test_system_reset_issues_new_credentials(env, organ_ids) -> None:
    lienthong(env, "migrate")
    system = organ_ids.new()
    made = json.loads(lienthong(env, "system", "add", system, "--name", "thử", "--json").stdout)
    reset = json.loads(lienthong(env, "system", "reset", system, "--json").stdout)
    for field in ("amqp_password", "http_token", "vxp_secret"):
        assert reset[field] and reset[field] != made[field]
    assert lienthong(env, "system", "reset", "no.such", check=False).returncode == 1


def test_operators_are_listed_and_revoked_and_cas_listed(env, home_dir) -> None:
    lienthong(env, "migrate")
    lienthong(env, "ca", "init")
    lienthong(env, "operator", "add", "an.admin", "--role", "admin")
    listed = json.loads(lienthong(env, "operator", "list", "--json").stdout)
    assert [(o["name"], o["role"], o["revoked_at"]) for o in listed] == [
        ("an.admin", "admin", None)
    ]
    assert "token revoked" in lienthong(env, "operator", "revoke", "an.admin").stdout
    assert "already revoked" in lienthong(env, "operator", "revoke", "an.admin").stdout
    assert json.loads(lienthong(env, "operator", "list", "--json").stdout)[0]["revoked_at"]
    assert lienthong(env, "operator", "revoke", "nobody", check=False).returncode == 1
    cas = json.loads(lienthong(env, "ca", "list", "--json").stdout)
    expected = x509.load_pem_x509_certificate((home_dir / "ca" / "cert.pem").read_bytes())
    assert [c["fingerprint_sha256"] for c in cas] == [expected.fingerprint(hashes.SHA256()).hex()]


def test_version_and_a_settings_file(tmp_path: Path) -> None:
    shown = lienthong({}, "--version").stdout
    assert shown.startswith("lienthong ") and "database schema" in shown
    settings = tmp_path / "lienthong.env"
    settings.write_text(
        "# as systemd's EnvironmentFile\n"
        'LIENTHONG_DATABASE_URL="postgresql://postgres@127.0.0.1:1/from_the_file"\n'
    )
    env = {k: v for k, v in os.environ.items() if k != "LIENTHONG_DATABASE_URL"}
    ran = subprocess.run(
        [sys.executable, "-m", "tools.cli", "--env-file", str(settings), "operator", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 1 and "127.0.0.1:1/from_the_file" in ran.stderr  # read from it
    ran = subprocess.run(
        [sys.executable, "-m", "tools.cli", "operator", "list"],
        env={**env, "LIENTHONG_ENV_FILE": str(settings), "LIENTHONG_DATABASE_URL": "x://y"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 1 and "x://y" in ran.stderr  # the environment wins over the file
    settings.write_text("not a setting\n")
    broken = lienthong({}, "--env-file", str(settings), "operator", "list", check=False)
    assert broken.returncode == 1 and "line 1: not a KEY=value line" in broken.stderr


async def test_errors_are_one_line_naming_their_cause(env, settings) -> None:
    """PROTOCOL §7: exit 1 with one `error:` line, no traceback — a database without the
    schema, a bad option value, an unreachable broker."""
    admin = await asyncpg.connect(settings.database_url)
    try:
        await admin.execute("DROP TABLE agency CASCADE")  # a database without (all of) the schema
    finally:
        await admin.close()
    listed = lienthong(env, "agency", "list", check=False)
    assert listed.returncode == 1 and "run `lienthong migrate`" in listed.stderr
    assert "Traceback" not in listed.stderr and listed.stderr.count("error:") == 1
    bad = lienthong(
        env,
        "agency",
        "add",
        "000.00.00.G22",
        "--name",
        "x",
        "--issue",
        "--key-type",
        "dsa",
        check=False,
    )
    assert bad.returncode == 1 and "use rsa or ec" in bad.stderr and "Traceback" not in bad.stderr
    gone = {**env, "LIENTHONG_AMQP_URL": f"amqp://guest:guest@127.0.0.1:{free_port()}/"}
    unreachable = lienthong(gone, "system", "reset", "nobody", check=False)
    assert unreachable.returncode == 1 and "Traceback" not in unreachable.stderr
    assert unreachable.stderr.count("error:") == 1


def test_operator_add_json(env) -> None:
    lienthong(env, "migrate")
    made = json.loads(
        lienthong(env, "operator", "add", "ops.json", "--role", "admin", "--json").stdout
    )
    assert (
        made["name"] == "ops.json" and made["role"] == "admin" and made["token"].startswith("lto_")
    )


def test_commands_that_report_say_it_in_json(env, tmp_path: Path) -> None:
    migrated = json.loads(lienthong(env, "migrate", "--json").stdout)
    assert migrated["schema_version"] >= 11 and migrated["applied"] == []
    lienthong(env, "ca", "init")
    _, other = issuing.make_ca("CA for JSON")
    pem = tmp_path / "ca.pem"
    pem.write_text(pki.pem(other))
    [trusted] = json.loads(lienthong(env, "ca", "trust", str(pem), "--json").stdout)
    assert trusted["trusted_now"] and trusted["fingerprint_sha256"] == pki.fingerprint(other).hex()
    sealed = json.loads(lienthong(env, "audit", "seal", "--json").stdout)
    assert sealed is None or sealed["seal"] >= 1
