"""The whole application in child processes (command handler, projector, web servers) on the test stack,
and small GraphQL clients that talk to it the way real clients do: HTTP and both websocket protocols."""

from __future__ import annotations

import http.client
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connections
from websockets.sync.client import connect

from devstack import postgres
from devstack.processes import die_with_parent
from devstack.profiles import get_profile, read_procfile
from kafka_bridge import clients
from kafka_bridge.consumers.projector import TOPICS as PROJECTOR_TOPICS
from kafka_bridge.tools.offsets import end_offsets, new_group_at_end

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def web_command(fd: int) -> list[str]:
    """The Procfile's web process, on the listening socket `fd`, run by this interpreter."""
    python, *args = shlex.split(read_procfile()["web"])
    return [sys.executable if python == "python" else python, *(str(fd) if a == "$WEB_FD" else a for a in args)]


def database_env(process: str | None = None) -> dict[str, str]:
    """The test databases, as the role of the Procfile's `process` (as the tests' own user without one)."""

    def url(alias: str) -> str:
        s = connections[alias].settings_dict
        if process is None:
            return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
        role = postgres.ROLES[process]
        password = postgres.role_password(get_profile(os.environ.get("DEVSTACK_PROFILE", "test")), role)
        return f"postgres://{role}:{password}@{s['HOST']}:{s['PORT']}/{s['NAME']}"

    return {"DATABASE_URL": url("default"), "LEDGER_DATABASE_URL": url("ledger"), "PYTHONUNBUFFERED": "1"}


def listening_socket() -> socket.socket:
    """A socket already bound to a free port and listening, for a web server to take over (`daphne --fd`):
    no other program can take the port between our choosing it and the server binding it."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    return listener


class App:
    """Processes of the application, each logging to a file in `logs`."""

    def __init__(self, logs: Path, **env: str) -> None:
        logs.mkdir(parents=True, exist_ok=True)
        self.logs = logs
        self.env = env  # for every process it starts
        self.processes: dict[str, subprocess.Popen] = {}
        self.how: dict[str, tuple] = {}  # name -> what it was started with, to restart it the same way
        self.log_start: dict[str, int] = {}  # name -> where its log was when it was last started
        self.projector_group: str | None = None
        self.handler_group: str | None = None
        self.alerts_group: str | None = None

    def start(
        self, name: str, argv: list[str], pass_fds: tuple[int, ...] = (), process: str | None = None, **env: str
    ) -> subprocess.Popen:
        """Start `argv` as `name`; as the Procfile's `process` (its database role) if given."""
        self.how[name] = (argv, process, env)
        log = self.logs / f"{name}.log"
        self.log_start[name] = log.stat().st_size if log.exists() else 0
        with open(self.logs / f"{name}.log", "ab") as output:
            process = subprocess.Popen(
                argv,
                cwd=PROJECT_ROOT,
                env={**os.environ, **database_env(process), **self.env, **env},
                stdout=output,
                stderr=subprocess.STDOUT,
                pass_fds=pass_fds,
                preexec_fn=die_with_parent(),
            )
        self.processes[name] = process
        return process

    def start_handler(self) -> None:
        group = self.handler_group = new_group_at_end("commands", prefix="test-live-handler")
        self.start(
            "handler",
            [sys.executable, "manage.py", "run_command_handler", f"--group={group}", f"--instance={group}"],
            process="command-handler",
        )

    def start_alerts(self, name: str = "alerts") -> None:
        """run_alerts in a group of its own, from the end of balance_changed."""
        group = self.alerts_group = self.alerts_group or new_group_at_end("balance_changed", prefix="test-live-alerts")
        argv = [sys.executable, "manage.py", "run_alerts", f"--group={group}", f"--instance={group}-{name}"]
        self.start(name, argv, process="alerts")

    def start_projector(self, name: str = "projector") -> None:
        """A projector; a second one joins the first one's group and takes half of the partitions."""
        if self.projector_group is None:
            self.projector_group = new_group_at_end(PROJECTOR_TOPICS[0], prefix="test-live-projector")
            consumer = clients.consumer(self.projector_group)
            try:
                offsets = [tp for t in PROJECTOR_TOPICS[1:] for tp in end_offsets(t)]
                consumer.commit(offsets=offsets, asynchronous=False)
            finally:
                consumer.close()
        argv = [sys.executable, "manage.py", "run_projector", f"--group={self.projector_group}"]
        self.start(name, argv, process="projector")

    def start_worker(self, name: str = "worker") -> None:
        """The Procfile's Celery worker (it mails), as the worker's role."""
        python, *args = shlex.split(read_procfile()["worker"])
        self.start(name, [sys.executable, "-m", python, *args], process="worker")

    def start_web(self, name: str, **env: str) -> str:
        # Every test logs in from 127.0.0.1, and the count is shared through Redis by every web of the run.
        env = {"LOGINS_PER_MINUTE_PER_ADDRESS": "100000", **env}
        with listening_socket() as listener:
            fd = listener.fileno()
            self.start(name, web_command(fd), (fd,), process="web", **env)
            url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/", timeout=1):
                    return url
            except OSError:
                if time.monotonic() > deadline or self.processes[name].poll() is not None:
                    log = (self.logs / f"{name}.log").read_text()
                    raise AssertionError(f"{name} did not start:\n{log}") from None
                time.sleep(0.1)

    def restart(self, name: str) -> None:
        """Stop a handler or a projector (SIGTERM) and start it again as it was."""
        self.processes[name].terminate()
        self.processes[name].wait(30)
        argv, process, env = self.how[name]
        self.start(name, argv, process=process, **env)

    def wait_for_log(self, name: str, text: str, timeout: float = 60) -> None:
        """Wait until the process's log says `text` (after its latest start)."""
        log = self.logs / f"{name}.log"
        deadline = time.monotonic() + timeout
        while text not in log.read_bytes()[self.log_start[name] :].decode(errors="replace"):
            if time.monotonic() > deadline or self.processes[name].poll() is not None:
                raise AssertionError(f"{name} never said {text!r}:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)

    def pause(self, name: str) -> None:
        self.processes[name].send_signal(signal.SIGSTOP)

    def resume(self, name: str) -> None:
        self.processes[name].send_signal(signal.SIGCONT)

    def stop(self) -> None:
        for process in self.processes.values():
            process.send_signal(signal.SIGCONT)
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


@contextmanager
def running_app(logs: Path, **env: str) -> Iterator[App]:
    """The topology synced, a command handler and a projector running; the caller starts web servers.
    `env` goes to every process."""
    from django.core.management import call_command

    call_command("sync_topology", "--wait=30")
    app = App(logs, **env)
    try:
        app.start_handler()
        app.start_projector()
        yield app
    finally:
        app.stop()


def post(
    url: str,
    query: str,
    variables: dict | None = None,
    timeout: float = 30,
    source: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict]:
    """POST a GraphQL operation, from the loopback address `source` if given (another client, as the web sees
    it), with more `headers` if given; return the HTTP status and the JSON body."""
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    web = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(
        web.hostname or "", web.port, timeout=timeout, source_address=(source, 0) if source else None
    )
    try:
        connection.request("POST", web.path + "/graphql", body, {"Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


@contextmanager
def subscription(
    url: str,
    query: str,
    variables: dict | None = None,
    *,
    protocol: str = "graphql-transport-ws",
    init: bool = True,
    path: str = "/graphql-ws",
    source: str | None = None,
) -> Iterator:
    """Open a subscription (from the loopback address `source` if given); yield a function returning its next
    message (payload dict) or None when done."""
    ws_url = url.replace("http://", "ws://") + path
    source_address = (source, 0) if source else None
    with connect(ws_url, subprotocols=[protocol], open_timeout=10, source_address=source_address) as websocket:
        operation_id = str(uuid.uuid4())
        if protocol == "graphql-transport-ws":
            websocket.send(json.dumps({"type": "connection_init"}))
            assert json.loads(websocket.recv(10))["type"] == "connection_ack"
            websocket.send(
                json.dumps(
                    {"type": "subscribe", "id": operation_id, "payload": {"query": query, "variables": variables or {}}}
                )
            )
        else:
            if init:
                websocket.send(json.dumps({"type": "connection_init"}))
                assert json.loads(websocket.recv(10))["type"] == "connection_ack"
            websocket.send(
                json.dumps(
                    {"type": "start", "id": operation_id, "payload": {"query": query, "variables": variables or {}}}
                )
            )

        def next_message(timeout: float = 30) -> dict | None:
            while True:
                message = json.loads(websocket.recv(timeout))
                if message["type"] in ("next", "data"):
                    return message["payload"]
                if message["type"] in ("error",):
                    return {"errors": message["payload"]}
                if message["type"] == "complete":
                    return None

        yield next_message


@pytest.fixture(scope="module")
def bank(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[App]:
    """The whole application on the test stack: a command handler, a projector and a web server (`bank.web`)."""
    with django_db_blocker.unblock(), running_app(tmp_path_factory.mktemp("bank-logs")) as app:
        app.web = app.start_web("web")
        yield app
