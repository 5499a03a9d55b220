"""Start, watch and stop child processes: the services of the stack and the application's processes."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

PR_SET_PDEATHSIG = 1


class StackError(Exception):
    """A service could not be prepared or started; the message says what to do."""


def _die_with_parent() -> None:
    """Ask the kernel to SIGTERM this child when the supervisor dies, so nothing is left orphaned."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class ProcessSpec:
    """How to run one long-lived process and how to tell that it is ready."""

    name: str
    argv: list[str]
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)
    log: Path | None = None  # None: stream output to the terminal with a name prefix
    ready: Callable[[], bool] | None = None
    user: str | None = None
    stop_timeout: float = 30.0
    ports: tuple[int, ...] = ()  # must be free before the start, or a stranger would answer our probe


class Running:
    """A started process: its spec, its Popen handle, and a pid file to clean up after a crash."""

    def __init__(self, spec: ProcessSpec, pid_dir: Path | None) -> None:
        self.spec = spec
        self.pid_file = pid_dir / f"{spec.name}.pid" if pid_dir else None
        if self.pid_file:
            kill_leftover(self.pid_file)
        for port in spec.ports:
            if port_in_use(port):
                raise StackError(f"port {port}, which {spec.name} needs, is in use by another program; stop it first")
        env = {**os.environ, **spec.env}
        if spec.log:
            spec.log.parent.mkdir(parents=True, exist_ok=True)
            output = open(spec.log, "ab")  # noqa: SIM115 - the child owns it for its whole life
        else:
            output = subprocess.PIPE
        self.popen = subprocess.Popen(
            spec.argv,
            cwd=spec.cwd,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches the supervisor only; it stops children in order
            preexec_fn=_die_with_parent,
            user=spec.user,
        )
        if spec.log:
            output.close()
        else:
            threading.Thread(target=self._copy_output, daemon=True).start()
        if self.pid_file:
            self.pid_file.write_text(str(self.popen.pid))

    def _copy_output(self) -> None:
        assert self.popen.stdout is not None
        prefix = f"{self.spec.name:>16} | ".encode()
        for line in iter(self.popen.stdout.readline, b""):
            sys.stdout.buffer.write(prefix + line)
            sys.stdout.flush()

    def alive(self) -> bool:
        return self.popen.poll() is None

    def wait_until_ready(self, timeout: float) -> None:
        """Poll the readiness probe until it answers, the process dies, or the deadline passes."""
        deadline = time.monotonic() + timeout
        delay = 0.1
        while True:
            if not self.alive():
                raise StackError(f"{self.spec.name} exited with status {self.popen.returncode}.{self.log_tail()}")
            if self.spec.ready is None or self.spec.ready():
                return
            if time.monotonic() > deadline:
                raise StackError(f"{self.spec.name} was not ready after {timeout:.0f}s.{self.log_tail()}")
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)

    def log_tail(self, lines: int = 30) -> str:
        if not self.spec.log or not self.spec.log.exists():
            return ""
        tail = self.spec.log.read_text(errors="replace").splitlines()[-lines:]
        return f"\nLast lines of {self.spec.log}:\n" + "\n".join(tail)

    def stop(self) -> None:
        """SIGTERM the whole process group, then SIGKILL it if it outlives its stop timeout."""
        if self.alive():
            _signal_group(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(self.spec.stop_timeout)
            except subprocess.TimeoutExpired:
                print(f"{self.spec.name} did not stop within {self.spec.stop_timeout:.0f}s; killing it", flush=True)
                _signal_group(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        if self.pid_file:
            self.pid_file.unlink(missing_ok=True)


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def kill_leftover(pid_file: Path) -> None:
    """Stop a process that an earlier, killed supervisor left behind (its pid file is still there)."""
    if not pid_file.exists():
        return
    try:
        process = psutil.Process(int(pid_file.read_text()))
        if process.create_time() <= pid_file.stat().st_mtime + 1:
            print(f"stopping leftover {pid_file.stem} (pid {process.pid})", flush=True)
            process.terminate()
            process.wait(30)
    except (ValueError, psutil.NoSuchProcess):
        pass
    except psutil.TimeoutExpired:
        process.kill()
    pid_file.unlink(missing_ok=True)


class Supervisor:
    """Owns every process it started and stops them in reverse order, once."""

    def __init__(self, pid_dir: Path | None = None) -> None:
        self.pid_dir = pid_dir
        self.running: list[Running] = []

    def start(self, spec: ProcessSpec) -> Running:
        if self.pid_dir:
            self.pid_dir.mkdir(parents=True, exist_ok=True)
        running = Running(spec, self.pid_dir)
        self.running.append(running)
        return running

    def stop_all(self) -> None:
        while self.running:
            running = self.running.pop()
            if running.alive():
                print(f"stopping {running.spec.name}", flush=True)
            running.stop()
