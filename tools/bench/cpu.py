"""Who used the machine's processors during a run: the hub, RabbitMQ, PostgreSQL, the driver.

Read from ``/proc/<pid>/stat`` (user + system time) before and after a phase, so a figure says
how many cores each party kept busy. On a machine where everything shares two cores this is
what limits throughput, and it tells a deployer what moving a service elsewhere would free.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")
GROUPS = ("hub", "rabbitmq", "postgresql", "driver", "other")


@dataclass(frozen=True, kw_only=True, slots=True)
class CpuSample:
    seconds: dict[str, float]
    """CPU seconds used so far, by group, of the processes alive now."""


def _stat(pid: int) -> tuple[str, int, float] | None:
    """(command, parent pid, CPU seconds) of one process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command is in parentheses and may contain spaces: split after the last ')'
    command = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    parent = int(fields[1])
    cpu = (int(fields[11]) + int(fields[12])) / _TICKS
    return command, parent, cpu


def sample(hub_pid: int) -> CpuSample:
    """CPU seconds of every process on the machine, grouped."""
    table: dict[int, tuple[str, int, float]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                table[int(entry.name)] = stat
    me = os.getpid()

    def descends(pid: int, ancestor: int) -> bool:
        seen = 0
        while pid > 1 and seen < 64:
            if pid == ancestor:
                return True
            pid = table[pid][1] if pid in table else 1
            seen += 1
        return False

    seconds = dict.fromkeys(GROUPS, 0.0)
    for pid, (command, _, cpu) in table.items():
        if descends(pid, hub_pid):
            group = "hub"
        elif pid == me:
            group = "driver"
        elif command in ("beam.smp", "erl_child_setup", "epmd", "inet_gethost"):
            group = "rabbitmq"
        elif command.startswith("postgres"):
            group = "postgresql"
        else:
            group = "other"
        seconds[group] += cpu
    return CpuSample(seconds=seconds)


def spent(before: CpuSample, after: CpuSample) -> dict[str, float]:
    """Processor seconds each group used between two samples (processes that ended in
    between are not counted; the hub's, RabbitMQ's and PostgreSQL's live on)."""
    return {
        group: max(0.0, after.seconds[group] - before.seconds.get(group, 0.0)) for group in GROUPS
    }
