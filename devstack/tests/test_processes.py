"""The supervisor's promises: clear errors, no stranger mistaken for our service, nothing left running."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from devstack.processes import (
    ProcessSpec,
    StackError,
    StackRunning,
    Supervisor,
    bindable,
    claim,
    live_process,
    port_in_use,
    wait_until_bindable,
    write_pid_file,
)


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


def test_a_restarted_process_keeps_its_place_in_the_stop_order(tmp_path, capsys):
    """Applications stop before the services they use, even after a fault test restarted a service."""
    supervisor = Supervisor()
    for name in ("kafka", "redis", "web"):
        supervisor.start(ProcessSpec(name, python("import time; time.sleep(60)"), tmp_path))
    supervisor.stop("kafka")
    supervisor.start(supervisor.specs["kafka"])
    supervisor.restart("redis")
    capsys.readouterr()

    supervisor.stop_all()

    assert capsys.readouterr().out.split() == ["stopping", "web", "stopping", "redis", "stopping", "kafka"]


SLEEPER_IGNORING_SIGTERM = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"

SUPERVISOR_SCRIPT = """
import sys, time
from pathlib import Path
from devstack.processes import ProcessSpec, Supervisor
supervisor = Supervisor(pid_dir=Path(sys.argv[1]))
for name in ("frozen", "stubborn", "restarted"):
    supervisor.start(ProcessSpec(name, [sys.executable, "-c", sys.argv[2]], Path(".")))
supervisor.stop("restarted", kill=True)
supervisor.restart("restarted")
print(" ".join(str(running.popen.pid) for running in supervisor.running), flush=True)
time.sleep(600)
"""


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_no_child_outlives_a_supervisor_killed_with_sigkill_not_even_a_frozen_or_restarted_one(tmp_path):
    supervisor = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR_SCRIPT, str(tmp_path / "pids"), SLEEPER_IGNORING_SIGTERM],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        text=True,
    )
    children = [int(pid) for pid in supervisor.stdout.readline().split()]
    assert len(children) == 3 and all(not gone(pid) for pid in children)
    os.kill(children[0], signal.SIGSTOP)

    supervisor.kill()
    supervisor.wait()

    survivors = [pid for pid in children if not wait_until(lambda pid=pid: gone(pid))]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert survivors == []


def test_a_pid_file_of_a_dead_process_or_of_a_reused_pid_blocks_neither_a_start_nor_clean(tmp_path, monkeypatch):
    from devstack import __main__ as cli

    pid_dir = tmp_path / "stack" / "run" / "pids"
    pid_dir.mkdir(parents=True)
    (pid_dir / "supervisor.pid").write_text(json.dumps({"pid": dead_pid(), "started": 0}))
    (pid_dir / "kafka.pid").write_text(json.dumps({"pid": os.getpid(), "started": 12345.0}))  # a reused pid
    (pid_dir / "redis.pid").write_text("not even json")

    supervisor = Supervisor(pid_dir=pid_dir)
    supervisor.start(ProcessSpec("kafka", python("import time; time.sleep(60)"), tmp_path))
    supervisor.stop_all()
    assert psutil.pid_exists(os.getpid())  # the stranger behind the reused pid was left alone

    (pid_dir / "supervisor.pid").write_text(json.dumps({"pid": dead_pid(), "started": 0}))
    monkeypatch.setattr(cli, "STACK_ROOT", tmp_path / "stack")
    monkeypatch.setattr(cli, "STACK_ENV_FILE", tmp_path / ".stack.env")
    assert cli.clean() == 0
    assert not (tmp_path / "stack").exists()


def test_a_live_supervisor_is_never_taken_over_and_what_a_dead_one_left_is_stopped(tmp_path):
    pid_dir = tmp_path / "pids"
    other = subprocess.Popen(python("import time; time.sleep(60)"))
    orphan = subprocess.Popen(python(SLEEPER_IGNORING_SIGTERM))
    try:
        write_pid_file(pid_dir / "supervisor.pid", other.pid)
        write_pid_file(pid_dir / "redis.pid", orphan.pid)
        with pytest.raises(StackRunning, match=f"supervisor pid {other.pid}"):
            claim(pid_dir)
        assert live_process(pid_dir / "redis.pid") is not None

        other.kill()
        other.wait()
        os.kill(orphan.pid, signal.SIGSTOP)  # frozen, and deaf to SIGTERM: it still has to go
        claim(pid_dir)

        assert orphan.wait(60) is not None
        assert not (pid_dir / "redis.pid").exists()
    finally:
        for process in (other, orphan):
            process.kill()
            process.wait()


def test_new_cluster_ids_never_start_with_a_dash():
    from devstack.kafka import new_cluster_id

    ids = [new_cluster_id() for _ in range(3000)]
    assert len(set(ids)) == 3000 and all(len(i) == 22 and not i.startswith("-") for i in ids)


@pytest.mark.parametrize("cluster_id", ["-dashFirstAAAAAAAAAAAAA", "_underscoreFirstAAAAAAA"])
def test_kafka_storage_formats_with_any_cluster_id(tmp_path, cluster_id):
    from devstack.kafka import format_storage
    from devstack.prerequisites import find_java
    from devstack.profiles import DOWNLOADS

    if not (DOWNLOADS / "kafka-lib" / ".complete").exists():
        pytest.skip("needs the Kafka jars, which `make test` fetches before it runs the tests")
    properties = tmp_path / "server.properties"
    properties.write_text(
        "process.roles=broker,controller\nnode.id=1\ncontroller.listener.names=CONTROLLER\n"
        "listeners=PLAINTEXT://127.0.0.1:1,CONTROLLER://127.0.0.1:2\n"
        "controller.quorum.bootstrap.servers=127.0.0.1:2\n"
        f"log.dirs={tmp_path / 'data'}\n"
    )

    format_storage(find_java(), DOWNLOADS / "kafka-lib", properties, cluster_id)

    assert f"cluster.id={cluster_id}" in (tmp_path / "data" / "meta.properties").read_text()


def test_a_port_a_closed_client_connection_came_from_is_waited_for_before_a_service_takes_it():
    """make test's cluster stack once failed to start: PostgreSQL could not bind 54350, from which a connection
    of the first half's had just closed (its TIME_WAIT keeps any server from the port for 60 s)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        client = socket.socket()
        client.bind(("127.0.0.1", 0))
        port = client.getsockname()[1]
        client.connect(server.getsockname())
        accepted, _ = server.accept()
        client.close()  # the client closes first: its end waits in TIME_WAIT
        time.sleep(0.2)
        accepted.close()

        assert not port_in_use(port) and not bindable(port)
        with pytest.raises(StackError, match=f"port {port}, which postgres needs, could not be bound for 1s"):
            wait_until_bindable(port, "postgres", timeout=1)
