"""Start, watch and stop child processes: the services of the stack and the application's processes.

Nothing outlives the supervisor. A graceful stop (Ctrl-C, SIGTERM) stops every child in reverse order,
SIGTERM first and SIGKILL after its stop timeout. If the supervisor itself dies, however it dies, the
kernel SIGKILLs every child it started (`PR_SET_PDEATHSIG`), which no child can ignore, stuck or frozen.
Pid files record each process with its start time, so a file left by a dead process is told apart from
a live one and never blocks the next start or `make clean`.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
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
SUPERVISOR_PID_FILE = "supervisor.pid"


class StackError(Exception):
    """A service could not be prepared or started; the message says what to do."""


def die_with_parent() -> Callable[[], None]:
    """A `preexec_fn` that has the kernel SIGKILL the child when the process starting it dies.

    SIGKILL, because a stuck or frozen child never acts on SIGTERM; the graceful stop is the supervisor's
    own, before this. The signal fires when the *thread* that started the child ends, so children are
    only ever started from the main thread. If the parent died before `prctl` took effect, the child
    would never be told: it checks, and ends itself.
    """
    parent = os.getpid()

    def preexec() -> None:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


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
    pass_fds: tuple[int, ...] = ()  # inherited descriptors, e.g. a listening socket shared by web processes
    stop_together: bool = False  # stopped at the same time as the others started next to it that say so too
    stop_signal: signal.Signals = signal.SIGTERM  # the one that asks for a clean and prompt stop


# -- pid files -------------------------------------------------------------------------------------------------


def write_pid_file(path: Path, pid: int) -> None:
    """Record `pid` with its start time, which tells it apart from a later process that reuses the number."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"pid": pid, "started": psutil.Process(pid).create_time()}))


def live_process(path: Path) -> psutil.Process | None:
    """The process a pid file names, if it still runs; a file of a dead process is deleted."""
    try:
        recorded = json.loads(path.read_text())
        process = psutil.Process(int(recorded["pid"]))
        if abs(process.create_time() - float(recorded["started"])) < 0.05 and process.status() != "zombie":
            return process
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError, psutil.NoSuchProcess):
        pass
    path.unlink(missing_ok=True)
    return None


def stop_process(process: psutil.Process, timeout: float, stop_signal: signal.Signals = signal.SIGTERM) -> None:
    """`stop_signal` (SIGCONT first, in case it is frozen), then SIGKILL once `timeout` has passed."""
    with contextlib.suppress(psutil.NoSuchProcess):
        process.send_signal(stop_signal)
        process.resume()
        try:
            process.wait(timeout)
        except psutil.TimeoutExpired:
            process.kill()
            process.wait(10)


class Running:
    """A started process: its spec, its Popen handle, and its pid file."""

    def __init__(self, spec: ProcessSpec, pid_dir: Path | None) -> None:
        self.spec = spec
        self.pid_file = pid_dir / f"{spec.name}.pid" if pid_dir else None
        if self.pid_file and (leftover := live_process(self.pid_file)):
            print(f"stopping leftover {spec.name} (pid {leftover.pid})", flush=True)
            stop_process(leftover, spec.stop_timeout, spec.stop_signal)
        for port in spec.ports:
            if port_in_use(port):
                raise StackError(f"port {port}, which {spec.name} needs, is in use by another program; stop it first")
            wait_until_bindable(port, spec.name)
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
            preexec_fn=die_with_parent(),
            user=spec.user,
            pass_fds=spec.pass_fds,
        )
        if spec.log:
            output.close()
        else:
            threading.Thread(target=self._copy_output, daemon=True).start()
        if self.pid_file:
            with contextlib.suppress(psutil.NoSuchProcess):  # it may already have died; alive() says so
                write_pid_file(self.pid_file, self.popen.pid)

    def _copy_output(self) -> None:
        assert self.popen.stdout is not None
        prefix = f"{self.spec.name:>18} | ".encode()
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
        """Signal the whole process group to stop, then SIGKILL it if it outlives its stop timeout."""
        self.ask_to_stop()
        self.wait_until_stopped()

    def ask_to_stop(self) -> None:
        if self.alive():
            _signal_group(self.popen.pid, signal.SIGCONT)  # a frozen process cannot act on its stop signal
            _signal_group(self.popen.pid, self.spec.stop_signal)

    def wait_until_stopped(self) -> None:
        if self.alive():
            try:
                self.popen.wait(self.spec.stop_timeout)
            except subprocess.TimeoutExpired:
                print(f"{self.spec.name} did not stop within {self.spec.stop_timeout:.0f}s; killing it", flush=True)
                self.kill()
        self.forget()

    def kill(self) -> None:
        """SIGKILL the whole process group at once, as a crash would end it."""
        _signal_group(self.popen.pid, signal.SIGKILL)
        self.popen.wait()
        self.forget()

    def forget(self) -> None:
        if self.pid_file:
            self.pid_file.unlink(missing_ok=True)


TIME_WAIT_SECONDS = 60  # Linux's, fixed


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def bindable(port: int) -> bool:
    """Whether a server could listen on `port` now, as the services do (SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_until_bindable(port: int, name: str, timeout: float = TIME_WAIT_SECONDS + 10) -> None:
    """Wait while a closing client connection holds `port`: a connection that just closed from a port in
    Linux's ephemeral range (TIME_WAIT, 60 s) keeps any server from it. The test profiles keep out of that
    range (devstack.profiles); `make run`'s PostgreSQL port is in it."""
    deadline = time.monotonic() + timeout
    if not bindable(port):
        print(f"port {port}, which {name} needs, is held by a closing connection; waiting", flush=True)
    while not bindable(port):
        if time.monotonic() > deadline:
            raise StackError(f"port {port}, which {name} needs, could not be bound for {timeout:.0f}s")
        time.sleep(1)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


class StackRunning(StackError):
    """Another live supervisor owns this profile's stack."""


def claim(pid_dir: Path) -> None:
    """Make this process the supervisor of the stack whose pid files are in `pid_dir`.

    A live supervisor already there is refused. Pid files of dead processes are removed; processes a dead
    supervisor left behind are stopped (they are ours, and nobody else will).
    """
    owner = live_process(pid_dir / SUPERVISOR_PID_FILE)
    if owner is not None and owner.pid != os.getpid():
        raise StackRunning(f"a stack is already running here (supervisor pid {owner.pid}); stop it first")
    for pid_file in sorted(pid_dir.glob("*.pid")) if pid_dir.is_dir() else []:
        if pid_file.name != SUPERVISOR_PID_FILE and (orphan := live_process(pid_file)):
            print(f"stopping {pid_file.stem} (pid {orphan.pid}), left behind by a supervisor that died", flush=True)
            stop_process(orphan, 30)
            pid_file.unlink(missing_ok=True)
    write_pid_file(pid_dir / SUPERVISOR_PID_FILE, os.getpid())


class Supervisor:
    """Owns every process it started, by name; stops them in reverse order, once.

    Start processes from the main thread only (see `die_with_parent`).
    """

    def __init__(self, pid_dir: Path | None = None) -> None:
        self.pid_dir = pid_dir
        self.processes: dict[str, Running] = {}
        self.specs: dict[str, ProcessSpec] = {}
        self.down_on_purpose: set[str] = set()  # stopped or killed by request: neither an error nor restarted
        if pid_dir:
            claim(pid_dir)

    @property
    def running(self) -> list[Running]:
        return list(self.processes.values())

    def start(self, spec: ProcessSpec) -> Running:
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("start processes from the main thread: the parent-death signal follows the thread")
        self.specs[spec.name] = spec
        self.down_on_purpose.discard(spec.name)
        running = Running(spec, self.pid_dir)
        self.processes[spec.name] = running
        return running

    def restart(self, name: str) -> Running:
        self.processes.pop(name, None)
        return self.start(self.specs[name])

    def stop(self, name: str, *, kill: bool = False) -> None:
        """Stop (or SIGKILL) one process on purpose; it stays down until started again."""
        running = self.processes.pop(name, None)
        self.down_on_purpose.add(name)
        if running is not None:
            running.kill() if kill else running.stop()

    def stop_all(self) -> None:
        """Stop every process, the last first started first (a restart keeps its place: applications stop before
        the services they use); neighbours that stop together are asked at once."""
        order = [name for name in self.specs if name in self.processes]
        while order:
            running = self.processes.pop(order.pop())
            together = [running]
            while running.spec.stop_together and order and self.processes[order[-1]].spec.stop_together:
                together.append(self.processes.pop(order.pop()))
            for process in together:
                if process.alive():
                    print(f"stopping {process.spec.name}", flush=True)
                process.ask_to_stop()
            for process in together:
                process.wait_until_stopped()
                process.forget()
        if self.pid_dir:
            (self.pid_dir / SUPERVISOR_PID_FILE).unlink(missing_ok=True)
