"""CPU and memory of every process of the system, sampled with psutil (the original used Docker stats)."""

from __future__ import annotations

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
}


class ResourceSampler:
    def __init__(self) -> None:
        self._known: dict[int, tuple[str, psutil.Process]] = {}
        self._cpus = psutil.cpu_count() or 1
        self.sample()  # cpu_percent needs a first call to measure from

    def _part_of(self, process: psutil.Process) -> str | None:
        try:
            command = " ".join(process.cmdline())
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            return None
        for part, markers in PARTS.items():
            if any(marker in command for marker in markers):
                return part
        return None

    def sample(self) -> dict[str, dict[str, float]]:
        """Per part: CPU as a percentage of the whole machine (as the original) and resident memory in MiB."""
        for process in psutil.process_iter():
            if process.pid not in self._known:
                part = self._part_of(process)
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


def cpu_seconds(extra_pids: dict[str, int] | None = None) -> dict[str, float]:
    """CPU time (user and system) every part of the system has used so far, in seconds; `extra_pids` names
    processes of our own (the load test itself). Differences of two calls give the CPU of a window."""
    totals = {part: 0.0 for part in PARTS} | dict.fromkeys(extra_pids or {}, 0.0)
    sampler = ResourceSampler.__new__(ResourceSampler)
    for process in psutil.process_iter():
        part = sampler._part_of(process)
        try:
            if part:
                times = process.cpu_times()
                totals[part] += times.user + times.system
        except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            continue
    for part, pid in (extra_pids or {}).items():
        times = psutil.Process(pid).cpu_times()
        totals[part] += times.user + times.system
    return totals
