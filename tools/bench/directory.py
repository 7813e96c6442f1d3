"""The bench's directory phase: the hub holding the national directory.

Into a fresh database: 111,339 agencies in the OrganId forms of QĐ 20/2020 (a tree of roots,
departments and units) under 300 systems, each agency with one certificate, and a CRL of
50,000 revoked serials. Then: how long the import takes, how long a hub takes to load the
registry and how much memory it holds, how soon one change reaches a running hub, how many
queues and users the broker holds, and small-document throughput with that directory against
the same run with a handful of agencies (the main phase).
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hub.broker.management import Management
from hub.check.decision import local_date
from hub.config import Settings
from hub.db import Q, create_pool
from hub.registry import directory, issuing, pki, registry, systems
from hub.registry.registry_cache import RegistryCache
from hub.registry.tokens import token_hash
from hub.session import open_session
from hub.vxp.secrets import SecretBox


@dataclass(frozen=True, kw_only=True, slots=True)
class DirectoryOptions:
    agencies: int = 111_339
    systems: int = 300
    revoked: int = 50_000
    broker_systems: int = 10
    """Systems provisioned in RabbitMQ too (user, permissions, two quorum queues); the rest
    only in the registry. All 300 in the broker (600 quorum queues) wedged this machine's one
    RabbitMQ 3.10 node on the first run (docs/PERFORMANCE.md): a national hub runs RabbitMQ
    as a cluster on machines of its own."""


def root_code(index: int) -> str:
    """``M X1X2`` of a level-1 unit: a capital letter and two digits (312 of them)."""
    return f"{chr(ord('A') + index % 26)}{index // 26:02d}"


def generate(options: DirectoryOptions, system_ids: list[str]) -> list[dict[str, str]]:
    """The directory as rows of the import's columns: ``options.systems`` roots (one per
    system, ``000.00.00.MXX``), each with departments (``000.00.YY.MXX``) and, under each
    department, units (``VVV.ZZ.YY.MXX``), all in the strict national form."""
    rows: list[dict[str, str]] = []
    roots = options.systems
    per_root = max(0, options.agencies - roots) // roots
    extra = max(0, options.agencies - roots) % roots
    for r in range(roots):
        code = root_code(r)
        system = system_ids[r % len(system_ids)]
        root = f"000.00.00.{code}"
        rows.append(_row(root, f"Cơ quan {code}", "", system))
        below = per_root + (1 if r < extra else 0)
        departments = min(below, 20)
        units = below - departments
        for y in range(1, departments + 1):
            department = f"000.00.{y:02d}.{code}"
            rows.append(_row(department, f"Sở {y} {code}", root, system))
        for n in range(units):
            y = n % departments + 1 if departments else 1
            v, z = divmod(n // max(departments, 1) + 1, 100)
            unit = f"{v:03d}.{z:02d}.{y:02d}.{code}"
            rows.append(_row(unit, f"Đơn vị {unit}", f"000.00.{y:02d}.{code}", system))
    return rows[: options.agencies]


def _row(organ: str, name: str, parent: str, system: str) -> dict[str, str]:
    return {
        "organ_id": organ,
        "name": name,
        "parent_id": parent,
        "system_id": system,
        "state": "active",
        "successor_id": "",
    }


def as_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(directory.COLUMNS))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _rss() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


async def provision(isolated: Settings, count: int, in_broker: int) -> list[str]:
    """``count`` systems: the first ``in_broker`` as ``lienthong system add`` makes them (with
    their broker user and quorum inboxes), the rest in the registry only."""
    ids = [f"bench.sys.{n:03d}" for n in range(count)]
    box = SecretBox.of(isolated)
    async with open_session(isolated) as session:
        for index, system_id in enumerate(ids):
            if index < in_broker:
                async with session.db.transaction():
                    await systems.add_system(
                        session.db,
                        session.management,
                        session.channel,
                        isolated,
                        system_id=system_id,
                        name=f"bench system {system_id}",
                        event=False,
                    )
            else:
                await session.db.execute(
                    Q.system_insert,
                    system_id,
                    f"bench system {system_id}",
                    token_hash(system_id),
                    box.seal(system_id, "bench"),
                )
    return ids


def certificates(
    organs: list[str], advance: Callable[[int], None]
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey, list[tuple[object, ...]]]:
    """One certificate per agency from a bench CA (one shared EC key: it is the certificates
    the registry holds that matter here), as ``agency_certificate`` rows."""
    ca_key, ca_cert = issuing.make_ca("lienthong bench directory CA")
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    ca_fp = pki.fingerprint(ca_cert)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    rows: list[tuple[object, ...]] = []
    for index, organ in enumerate(organs):
        cert = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.COMMON_NAME, organ),
                        x509.NameAttribute(NameOID.USER_ID, organ),
                    ]
                )
            )
            .issuer_name(ca_cert.subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + dt.timedelta(days=730))
            .sign(ca_key, hashes.SHA256())
        )
        rows.append(
            (
                pki.fingerprint(cert),
                organ,
                ca_fp,
                f"CN={organ}",
                cert.serial_number,
                cert.not_valid_before_utc,
                cert.not_valid_after_utc,
                "EC-secp256r1",
                cert.public_bytes(serialization.Encoding.PEM).decode(),
            )
        )
        if index % 1000 == 999:
            advance(1000)
    return ca_cert, ca_key, rows  # type: ignore[return-value]


def crl(ca_key: Any, ca_cert: x509.Certificate, count: int) -> bytes:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now)
        .next_update(now + dt.timedelta(days=7))
    )
    for _ in range(count):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(x509.random_serial_number())
            .revocation_date(now)
            .build()
        )
    return builder.sign(ca_key, hashes.SHA384()).public_bytes(serialization.Encoding.DER)


async def run_directory(
    isolated: Settings,
    options: DirectoryOptions,
    progress: Any,
) -> dict[str, Any]:
    """Set up the directory in ``isolated`` (a fresh database) and measure it."""
    result: dict[str, Any] = {"agencies": options.agencies, "systems": options.systems}
    task = progress.add_task(f"provisioning {options.systems} systems", total=None)
    started = time.perf_counter()
    system_ids = await provision(isolated, options.systems, options.broker_systems)
    result["broker_systems"] = min(options.broker_systems, options.systems)
    result["provision_systems_s"] = time.perf_counter() - started
    progress.remove_task(task)

    rows = generate(options, system_ids)
    data = as_csv(rows)
    result["file_bytes"] = len(data)
    db = await asyncpg.connect(isolated.database_url)
    try:
        task = progress.add_task(f"importing {len(rows)} agencies", total=None)
        started = time.perf_counter()
        parsed = directory.read(data, "csv")
        decided = directory.plan(
            parsed, await directory.known(db), local_date(dt.datetime.now(dt.UTC))
        )
        await directory.apply(db, decided, source=data)
        result["import_s"] = time.perf_counter() - started
        result["import_refused"] = len(decided.refused)
        result["import_added"] = len(decided.added)
        progress.remove_task(task)

        task = progress.add_task("one certificate per agency", total=len(rows))
        started = time.perf_counter()
        ca_cert, ca_key, cert_rows = certificates(
            [r["organ_id"] for r in rows], lambda n: progress.advance(task, n)
        )
        await registry.trust_ca(db, ca_cert, source="operator")
        await db.copy_records_to_table(
            "agency_certificate",
            records=cert_rows,
            columns=[
                "fingerprint",
                "organ_id",
                "ca_fingerprint",
                "subject",
                "serial",
                "not_before",
                "not_after",
                "key_type",
                "pem",
            ],
        )
        result["certificates_s"] = time.perf_counter() - started
        progress.remove_task(task)
        task = progress.add_task(f"a CRL of {options.revoked} serials", total=None)
        started = time.perf_counter()
        from hub.registry import revocation

        await revocation.add(db, crl(ca_key, ca_cert, options.revoked))
        result["crl_s"] = time.perf_counter() - started
        progress.remove_task(task)
    finally:
        await db.close()

    # a hub's registry: the load at start-up, its memory, and one change followed
    pool = await create_pool(isolated.database_url, min_size=1, max_size=4)
    try:
        before = _rss()
        started = time.perf_counter()
        cache = RegistryCache(pool, isolated.database_url)
        await cache.start()
        result["startup_s"] = time.perf_counter() - started
        result["registry_bytes"] = max(0, _rss() - before)
        result["registry_agencies"] = len(cache.snapshot.agencies)
        result["registry_certificates"] = len(cache.snapshot.certificates)
        result["registry_revoked"] = sum(len(s) for s in cache.snapshot.revoked.values())
        following = asyncio.create_task(cache.run())
        await asyncio.sleep(0.5)
        target = rows[len(rows) // 2]["organ_id"]
        started = time.perf_counter()
        await pool.execute("UPDATE agency SET state = 'suspended' WHERE organ_id = $1", target)
        while cache.snapshot.state_of(target) != "suspended":
            if time.perf_counter() - started > 30:
                break
            await asyncio.sleep(0.001)
        result["change_s"] = time.perf_counter() - started
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
        await pool.execute("UPDATE agency SET state = 'active' WHERE organ_id = $1", target)
        await cache.follow()  # the change back
        looks = []
        for _ in range(20):  # nothing changes now: what each tick of a running hub costs
            started = time.perf_counter()
            result["idle_look_changes"] = await cache.follow()
            looks.append(time.perf_counter() - started)
        result["idle_look_ms"] = sorted(looks)[len(looks) // 2] * 1000
    finally:
        await pool.close()

    async with Management(isolated.amqp) as api:
        queues = await api.queues(isolated.amqp.vhost)
        result["broker_queues"] = len(queues)
        result["broker_users"] = len(
            [u for u in await api.users() if str(u.get("name", "")).startswith("bench.sys.")]
        )
    result["per_agency_model_queues"] = 2 * options.agencies
    return result
