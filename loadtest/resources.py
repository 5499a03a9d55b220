"""CPU and memory of every process of the system, sampled with psutil (the original used Docker stats)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import suppress

import psutil

# part of the system -> how to recognise its processes by their command line
PARTS = {
    "web": ("daphne",),
    "command_handler": ("run_command_handler",),
    "projector": ("run_projector",),
    "alerts": ("run_alerts",),
    "kafka": ("kafka.Kafka",),
    "registry": ("quarkus-run.jar",),
    "postgres": ("postgres",),
    "redis": ("redis-server",),
    "worker": ("celery",),
    "supervisor": ("devstack",),  # last: the stack's own supervisor (devstack run or exec)
}

LOADTEST = "loadtest"  # the load test's own process: its loop and the generators
BROWSER = "browser"  # the load test's children: Playwright's driver and Chromium
LOAD_TEST_PARTS = (LOADTEST, BROWSER)


def part_of(process: psutil.Process) -> str | None:
    """The part of the system `process` belongs to, by its command line; None for any other process."""
    try:
        command = " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None
    for part, markers in PARTS.items():
        if any(marker in command for marker in markers):
            return part
    return None


def stack_processes(
    me: psutil.Process | None = None, everything: Callable[[], Iterable[psutil.Process]] = psutil.process_iter
) -> list[psutil.Process]:
    """The processes to measure: those of the stack the load test runs under (`devstack exec`, itself included),
    so that a `make run` beside it is not counted; every process on the machine when it runs outside one."""
    me = me or psutil.Process()
    with suppress(psutil.Error):
        for ancestor in me.parents():
            if any("devstack" in part for part in ancestor.cmdline()):
                return [ancestor, *ancestor.children(recursive=True)]
    return list(everything())


class ResourceSampler:
    def __init__(self) -> None:
        self._known: dict[int, tuple[str, psutil.Process]] = {}
        self._cpus = psutil.cpu_count() or 1
        self.sample()  # cpu_percent needs a first call to measure from

    def sample(self) -> dict[str, dict[str, float]]:
        """Per part: CPU as a percentage of the whole machine (as the original) and resident memory in MiB."""
        for process in stack_processes():
            if process.pid not in self._known:
                part = part_of(process)
                if part:
                    self._known[process.pid] = (part, process)
                    process.cpu_percent(None)
        totals: dict[str, dict[str, float]] = {part: {"cpu": 0.0, "mem": 0.0} for part in PARTS}
        for pid, (part, process) in list(self._known.items()):
            try:
                totals[part]["cpu"] += process.cpu_percent(None) / self._cpus
                totals[part]["mem"] += process.memory_info().rss / 2**20
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                del self._known[pid]
        return {part: {k: round(v, 2) for k, v in values.items()} for part, values in totals.items()}


class CpuClock:
    """CPU time (user and system) each part of the system has used since the clock was made, in seconds.

    The load test itself is two parts: "loadtest" (this process) and "browser" (its children). A process
    that ends keeps counting with what it had used when last read, so no total ever goes back.
    """

    def __init__(self) -> None:
        self._last_seen: dict[int, tuple[str, float]] = {}  # pid -> (part, CPU seconds)
        self._ended = dict.fromkeys([*PARTS, *LOAD_TEST_PARTS], 0.0)
        self._start = self._totals()
        self._machine_start = _machine_seconds()

    def read(self) -> dict[str, float]:
        now = self._totals()
        return {part: round(now[part] - self._start[part], 3) for part in now}

    def read_machine(self) -> dict[str, float]:
        """The whole machine's CPU seconds since the clock was made: `busy` (every process, the kernel included,
        whether ours or not) and `stolen` (time the hypervisor gave another guest while we had work)."""
        now = _machine_seconds()
        return {kind: round(now[kind] - self._machine_start[kind], 3) for kind in now}

    def _totals(self) -> dict[str, float]:
        me = psutil.Process()
        children = {child.pid for child in me.children(recursive=True)}
        seen: dict[int, tuple[str, float]] = {}
        for process in stack_processes(me):
            part = LOADTEST if process.pid == me.pid else BROWSER if process.pid in children else part_of(process)
            try:
                if part:
                    times = process.cpu_times()
                    seen[process.pid] = (part, times.user + times.system)
            except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
                continue
        for pid, (part, used) in self._last_seen.items():
            if pid not in seen:
                self._ended[part] += used
        self._last_seen = seen
        totals = dict(self._ended)
        for part, used in seen.values():
            totals[part] += used
        return totals


def _machine_seconds() -> dict[str, float]:
    times = psutil.cpu_times()
    busy = times.user + times.system + getattr(times, "nice", 0.0)
    busy += getattr(times, "irq", 0.0) + getattr(times, "softirq", 0.0)
    return {"busy": busy, "stolen": getattr(times, "steal", 0.0)}
