"""``lienthong serve``: the hub's workers and HTTP server, in one or several processes."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing
import os
import shutil
import signal
import tempfile
from collections.abc import Coroutine, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
import uvicorn
import uvloop
from cryptography import x509

from hub import config, home, logs, metrics
from hub.audit.seal import Sealer
from hub.backoff import Backoff
from hub.broker import topology
from hub.broker.claims import ClaimChecks
from hub.broker.publisher import Publisher
from hub.check import decision
from hub.config import Settings
from hub.db import Q, create_pool
from hub.db.migrate import migrations
from hub.errors import (
    BrokerLost,
    CertificateRefused,
    ConfigError,
    HubError,
    ServiceUnavailable,
)
from hub.http.app import HubState, create_app
from hub.oversight import QueueWatch
from hub.record import receipt
from hub.registry import pki
from hub.registry.registry_cache import RegistryCache
from hub.registry.revocation import CrlWatch
from hub.route.pipeline import Pipeline, utcnow
from hub.route.triage import Triage
from hub.route.worker import OverdueWatch, Sweeper, Workers
from hub.vxp import auth
from hub.vxp.secrets import SecretBox, seal_plaintext

log = structlog.get_logger(__name__)


@dataclass(frozen=True, kw_only=True, slots=True)
class ServeOptions:
    http: bool = True
    concurrency: int = 64
    process: int = 0


class _Server(uvicorn.Server):
    """Uvicorn inside the hub's event loop; the hub handles the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def check_schema(settings: Settings) -> None:
    pool = await create_pool(settings.database_url, min_size=1, max_size=1)
    try:
        current = await pool.fetchval(Q.migration_current)
    finally:
        await pool.close()
    wanted = len(migrations())
    if (current or 0) < wanted:
        raise ConfigError(
            f"the database schema is at version {current or 0} and this hub needs {wanted}: "
            "run `lienthong migrate`"
        )
    if current > wanted:
        raise ConfigError(
            f"the database schema is at version {current}, newer than this hub's {wanted}: "
            "another hub was upgraded and migrated it; upgrade this one too (`lienthong "
            "--version` says which it is)"
        )


def check_own_certificate(identity: home.KeyPair, trusted: Iterable[x509.Certificate]) -> None:
    """The hub's certificate must chain to a CA the hub trusts as ``lienthong audit verify``
    checks its seals — by the certificate a seal carries and the trusted CAs alone, so an
    intermediate CA must be trusted itself — or its seals would fail, found out only when the
    records are needed."""
    try:
        pki.check_chain(identity.cert, trusted=trusted)
    except CertificateRefused as exc:
        raise ConfigError(
            f"the hub's certificate ({identity.cert.subject.rfc4514_string()}, "
            f"{identity.cert_path}) does not chain to a CA the hub trusts ({exc.detail}): every "
            "seal would fail `lienthong audit verify`. Trust the CA that issued it — "
            "`lienthong ca trust ISSUER.pem`, the intermediate CA itself if there is one"
        ) from None


async def run_hub(
    settings: Settings,
    options: ServeOptions,
    stop: asyncio.Event,
    started: asyncio.Event | None = None,
) -> None:
    structlog.contextvars.bind_contextvars(pid=os.getpid())
    identity = home.load_hub_identity(settings)
    await check_schema(settings)
    pool = await create_pool(settings.database_url, min_size=2, max_size=options.concurrency + 4)
    box = SecretBox.of(settings)
    try:
        await seal_plaintext(pool, box)
        connection = await topology.connect_any(
            settings.amqp.urls or (settings.amqp.url,),
            name=f"lienthong-hub-{os.getpid()}-{options.process}",
            robust=False,
        )
    except BaseException:
        await pool.close()
        raise
    lost = asyncio.Event()
    connection.close_callbacks.add(lambda *_: lost.set())
    try:
        await topology.declare_core(connection)
        channel = await connection.channel()
        await topology.declare_work(channel)
        await channel.close()
        registry = RegistryCache(pool, settings.database_url, stale_crl=settings.stale_crl)
        await registry.start()
        check_own_certificate(identity, registry.snapshot.trusted.values())
        publisher = await Publisher.open(
            connection,
            lambda out: registry.snapshot.inbox_for(
                out.recipient, receipt=out.is_receipt, today=decision.local_date(utcnow())
            ),
            lambda system: system in registry.snapshot.systems,
            ClaimChecks(inline_max=settings.inline_max_bytes, base_url=settings.base_url),
        )
        pipeline = Pipeline(
            settings=settings,
            pool=pool,
            registry=registry,
            signer=receipt.HubSigner(key=identity.key, cert=identity.cert),
            publisher=publisher,
        )
        _settle_heap()
        tasks: list[asyncio.Task[Any]] = [
            asyncio.create_task(registry.run(), name="registry"),
            asyncio.create_task(pipeline.run(), name="group-commit"),
            asyncio.create_task(Triage(connection, pipeline).run(), name="triage"),
            asyncio.create_task(
                Workers(connection, pipeline, concurrency=options.concurrency).run(), name="workers"
            ),
            asyncio.create_task(Sweeper(pipeline).run(), name="sweeper"),
            asyncio.create_task(
                Sealer(pool, pipeline.signer, every=settings.seal_seconds).run(), name="sealer"
            ),
            asyncio.create_task(
                OverdueWatch(
                    pipeline,
                    every=min(5.0, max(0.5, settings.working_time.delay.total_seconds() / 4)),
                ).run(),
                name="overdue",
            ),
        ]
        if options.process == 0:  # one process watches CRLs and queues for all of them
            tasks += [
                asyncio.create_task(
                    CrlWatch(pool, refresh_every=settings.crl_refresh_seconds).run(), name="crl"
                ),
                asyncio.create_task(QueueWatch(settings).run(), name="queues"),
            ]
        server: _Server | None = None
        if settings.public_url is None and settings.http_host in ("0.0.0.0", "::"):
            log.warning(
                "public_url_unset",
                detail=f"claim checks point at {settings.base_url}, which recipients cannot "
                "reach: set LIENTHONG_PUBLIC_URL to the address they use",
            )
        if options.http:
            app = create_app(
                HubState(
                    pipeline=pipeline,
                    connection=connection,
                    secrets=box,
                    vxp_zone=auth.zone_named(settings.vxp_timezone),
                    hub_intermediates=identity.intermediates,
                )
            )
            server = _Server(
                uvicorn.Config(
                    app,
                    host=settings.http_host,
                    port=settings.http_port,
                    log_level="warning",
                    lifespan="off",
                )
            )
            tasks.append(asyncio.create_task(server.serve(), name="http"))
        log.info(
            "hub_started",
            process=options.process,
            pid=os.getpid(),
            http=f"{settings.http_host}:{settings.http_port}" if options.http else None,
            agencies=len(registry.snapshot.agencies),
        )
        if started is not None:
            started.set()
        stopper = asyncio.create_task(stop.wait())
        tasks.append(asyncio.create_task(lost.wait(), name="broker"))
        done, _ = await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
        failed = [t for t in done if t is not stopper and t.exception() is not None]
        if server is not None:
            server.should_exit = True
        for task in tasks:
            if task.get_name() != "http":
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        pipeline.checker.close()
        stopper.cancel()
        if lost.is_set() and not stop.is_set():
            raise BrokerLost("the connection to RabbitMQ was lost")
        for task in failed:
            error = task.exception()
            assert error is not None
            raise HubError(f"the hub's {task.get_name()} stopped: {error!r}") from error
    finally:
        with contextlib.suppress(Exception):
            await connection.close()
        await pool.close()
        log.info("hub_stopped", process=options.process, pid=os.getpid())


def _install_stop(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


def _settle_heap() -> None:
    """What the hub loaded to start (the registry: 111,339 agencies in a national directory,
    their certificates, the schemas) lives as long as it runs: the cyclic garbage collector
    need not walk it again and again. Frozen, and young objects collected less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


async def keep_serving(settings: Settings, options: ServeOptions, stop: asyncio.Event) -> None:
    """Run the hub until ``stop``. The first start fails fast (one clear line); once it has run,
    losing RabbitMQ or PostgreSQL makes it start again, with backoff, until they are back."""
    started = asyncio.Event()
    backoff = Backoff(0.5)
    while not stop.is_set():
        try:
            await run_hub(settings, options, stop, started)
            return
        except ServiceUnavailable as exc:
            if not started.is_set():
                raise
            log.warning("hub_restarting", reason=str(exc), delay=backoff.delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), backoff.next())


async def _serve_one(settings: Settings, options: ServeOptions) -> None:
    stop = asyncio.Event()
    _install_stop(asyncio.get_running_loop(), stop)
    await keep_serving(settings, options, stop)


def _run(main: Coroutine[Any, Any, None]) -> None:
    """Run the hub's coroutine on uvloop (pyproject.toml says what it saves)."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


def _child(options: ServeOptions) -> None:
    logs.configure("INFO")
    settings = config.load()
    try:
        _run(_serve_one(settings, options))
    except HubError as exc:
        log.error("hub_failed", process=options.process, error=str(exc))
        raise SystemExit(1) from None


def serve(settings: Settings, *, workers: int, concurrency: int) -> None:
    """Run the hub until SIGINT or SIGTERM. With several workers, this process serves HTTP and
    supervises the others, restarting any that dies."""
    home.load_hub_identity(settings)  # a missing key stops us here, with one clear line
    if workers <= 1:
        _run(_serve_one(settings, ServeOptions(http=True, concurrency=concurrency)))
        return
    shared = Path(tempfile.gettempdir()) / f"lienthong-metrics-{os.getpid()}"
    metrics.share_between_processes(shared)  # /metrics adds up every process's counts
    context = multiprocessing.get_context("spawn")
    children: dict[int, multiprocessing.process.BaseProcess] = {}

    def start(index: int) -> None:
        process = context.Process(
            target=_child,
            args=(ServeOptions(http=False, concurrency=concurrency, process=index),),
            name=f"lienthong-worker-{index}",
            daemon=True,
        )
        process.start()
        children[index] = process

    for index in range(1, workers):
        start(index)

    async def supervise(stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(1)
            for index, process in list(children.items()):
                if not process.is_alive() and not stop.is_set():
                    log.warning("worker_restarted", process=index, exitcode=process.exitcode)
                    if process.pid is not None:
                        metrics.process_gone(process.pid)
                    await asyncio.sleep(0.5)
                    start(index)

    async def main() -> None:
        stop = asyncio.Event()
        _install_stop(asyncio.get_running_loop(), stop)
        supervisor = asyncio.create_task(supervise(stop))
        try:
            await keep_serving(settings, ServeOptions(http=True, concurrency=concurrency), stop)
        finally:
            stop.set()
            supervisor.cancel()
            for process in children.values():
                if process.is_alive() and process.pid is not None:
                    os.kill(process.pid, signal.SIGTERM)
            for process in children.values():
                process.join(timeout=10)

    try:
        _run(main())
    finally:
        shutil.rmtree(shared, ignore_errors=True)
