"""Act on one process of a running stack: `python -m devstack kill|stop|start NAME [--profile P]`.

The supervisor listens on a Unix socket of its profile (in the abstract namespace, so no file is left
behind); a request is one JSON line, the answer another. Requests are carried out on the supervisor's
main thread, the only one that may start processes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import queue
import socket
import threading
from concurrent.futures import Future

from devstack.processes import StackError, Supervisor
from devstack.profiles import Profile

ACTIONS = ("kill", "stop", "start", "status")


def address(profile: Profile) -> str:
    """A socket address of this checkout and profile: two clones of the project never share one."""
    digest = hashlib.sha1(str(profile.state.resolve()).encode()).hexdigest()[:16]
    return f"\0open-bank-devstack-{digest}"


class ControlServer:
    def __init__(self, profile: Profile, ready_timeout: float) -> None:
        self.ready_timeout = ready_timeout
        self._requests: queue.Queue[tuple[dict, Future]] = queue.Queue()
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._socket.bind(address(profile))
        except OSError as error:
            raise StackError(f"a stack of profile '{profile.name}' seems to be running already ({error})") from None
        self._socket.listen()
        threading.Thread(target=self._accept_forever, daemon=True, name="devstack-control").start()

    def _accept_forever(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        with connection, connection.makefile("rw") as stream:
            try:
                request = json.loads(stream.readline())
                done: Future = Future()
                self._requests.put((request, done))
                answer = {"ok": True, "message": done.result()}
            except Exception as error:  # noqa: BLE001 - every failure goes back to the caller
                answer = {"ok": False, "message": str(error)}
            with contextlib.suppress(OSError):
                stream.write(json.dumps(answer) + "\n")
                stream.flush()

    def serve(self, supervisor: Supervisor, wait: float) -> None:
        """Carry out the requests that have come, waiting up to `wait` seconds for the first."""
        try:
            request, done = self._requests.get(timeout=wait)
        except queue.Empty:
            return
        try:
            done.set_result(self._carry_out(supervisor, request.get("action"), request.get("name", "")))
        except Exception as error:  # noqa: BLE001
            done.set_exception(error)

    def _carry_out(self, supervisor: Supervisor, action: str | None, name: str) -> str:
        if action == "status":
            alive = {name for name, running in supervisor.processes.items() if running.alive()}
            return "\n".join(f"{name:<20} {'running' if name in alive else 'down'}" for name in supervisor.specs)
        if name not in supervisor.specs:
            raise StackError(f"no process named {name!r}; there are: {', '.join(supervisor.specs)}")
        if action in ("kill", "stop"):
            supervisor.stop(name, kill=action == "kill")
            return f"{name} {'killed' if action == 'kill' else 'stopped'}"
        if action == "start":
            running = supervisor.processes.get(name)
            if running is not None and running.alive():
                return f"{name} is already running"
            supervisor.restart(name).wait_until_ready(self.ready_timeout)
            return f"{name} started"
        raise StackError(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)
        self._socket.close()


def request(profile: Profile, action: str, name: str = "", timeout: float = 300) -> str:
    """Ask the running stack of `profile` to act on one of its processes; return what it says."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(timeout)
        try:
            connection.connect(address(profile))
        except (ConnectionRefusedError, FileNotFoundError):
            raise StackError(f"no stack of profile '{profile.name}' is running here") from None
        with connection.makefile("rw") as stream:
            stream.write(json.dumps({"action": action, "name": name}) + "\n")
            stream.flush()
            answer = json.loads(stream.readline() or '{"ok": false, "message": "the supervisor went away"}')
    if not answer["ok"]:
        raise StackError(answer["message"])
    return answer["message"]
