"""The supervisor's promises: clear errors, no stranger mistaken for our service, nothing left running."""

import socket
import sys

import psutil
import pytest

from devstack.processes import ProcessSpec, StackError, Supervisor, kill_leftover


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_a_process_that_dies_while_starting_is_reported_with_its_log(tmp_path):
    supervisor = Supervisor()
    spec = ProcessSpec(
        "broken",
        python("import sys; print('bad config'); sys.exit(3)"),
        tmp_path,
        log=tmp_path / "broken.log",
        ready=lambda: False,
    )

    with pytest.raises(StackError, match=r"broken exited with status 3(.|\n)*bad config"):
        supervisor.start(spec).wait_until_ready(timeout=10)
    supervisor.stop_all()


def test_a_process_that_never_gets_ready_fails_at_the_deadline(tmp_path):
    supervisor = Supervisor()
    spec = ProcessSpec(
        "slow", python("import time; time.sleep(60)"), tmp_path, log=tmp_path / "slow.log", ready=lambda: False
    )
    try:
        with pytest.raises(StackError, match="slow was not ready after 1s"):
            supervisor.start(spec).wait_until_ready(timeout=1)
    finally:
        supervisor.stop_all()


def test_a_port_held_by_another_program_stops_the_start(tmp_path):
    with socket.socket() as stranger:
        stranger.bind(("127.0.0.1", 0))
        stranger.listen()
        port = stranger.getsockname()[1]
        spec = ProcessSpec("kafka", python("pass"), tmp_path, ports=(port,))

        with pytest.raises(StackError, match=f"port {port}, which kafka needs, is in use"):
            Supervisor().start(spec)


def test_stop_kills_a_process_that_ignores_sigterm(tmp_path):
    supervisor = Supervisor(pid_dir=tmp_path / "pids")
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"
    log = tmp_path / "stubborn.log"
    running = supervisor.start(
        ProcessSpec(
            "stubborn", python(code), tmp_path, log=log, stop_timeout=0.5, ready=lambda: "up" in log.read_text()
        )
    )
    running.wait_until_ready(timeout=10)

    supervisor.stop_all()

    assert not psutil.pid_exists(running.popen.pid) or psutil.Process(running.popen.pid).status() == "zombie"
    assert not (tmp_path / "pids" / "stubborn.pid").exists()


def test_a_process_left_by_a_killed_supervisor_is_stopped_on_the_next_start(tmp_path):
    pid_dir = tmp_path / "pids"
    first = Supervisor(pid_dir=pid_dir).start(ProcessSpec("redis", python("import time; time.sleep(60)"), tmp_path))
    leftover = psutil.Process(first.popen.pid)

    kill_leftover(pid_dir / "redis.pid")

    assert leftover.wait(5) is not None or not leftover.is_running()
    assert not (pid_dir / "redis.pid").exists()
