"""``lienthong``: the hub's commands (:mod:`hub.cli.app`), the agency-side commands
(:mod:`adapters.commands`), ``demo`` and ``bench``."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from adapters import commands
from hub.cli.app import build
from hub.cli.console import out, run


def bench_command(
    output: Annotated[
        Path, typer.Option("--output", help="folder for bench.json and bench.png")
    ] = Path("bench-results"),
    smoke: Annotated[
        bool, typer.Option("--smoke", help="a tiny run that only proves it works")
    ] = False,
    workers: Annotated[int, typer.Option("--workers", help="hub processes")] = 2,
    cluster: Annotated[
        bool,
        typer.Option("--cluster", help="also on a local three-node cluster (scripts/cluster.sh)"),
    ] = False,
) -> None:
    """Measure the hub on this machine: throughput, latency, memory, and each stage alone."""
    from tools.bench import report
    from tools.bench.run import BenchOptions, run_bench

    options = BenchOptions.smoke(output) if smoke else BenchOptions(output=output, workers=workers)
    options = dataclasses.replace(options, cluster=cluster)
    result = run(lambda settings: run_bench(settings, options, out))
    report.show(result, out)
    json_path, png_path = report.write(result, output)
    out.print(f"results: {json_path}" + (f", plot: {png_path}" if png_path else ""))


def demo_command(
    once: Annotated[bool, typer.Option("--once", help="exit when done")] = False,
) -> None:
    """Set up the development CA and two sample agencies, and say what was done."""
    from tools import demo

    run(lambda settings: demo.run(settings, once=once, console=out))


def program() -> typer.Typer:
    app = build()
    app.command("bench")(bench_command)
    app.command("demo")(demo_command)
    commands.register(app)
    return app


def main() -> None:
    program()()


if __name__ == "__main__":
    main()
