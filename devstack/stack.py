"""Bring the four services of a profile up, and describe how to reach them."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from devstack import kafka, postgres, redis, registry
from devstack.processes import Supervisor
from devstack.profiles import STACK_ENV_FILE, Profile

DATA = ("kafka", "kafka-cluster-id", "postgres", "redis", "registry")  # of a profile's state; not tls, logs

READY_TIMEOUT = 180.0


def connection_settings(profile: Profile) -> dict[str, str]:
    """The environment variables that point the application at this profile's stack (Kafka as its admin).

    The stack's web listens on 127.0.0.1 only, so its every client is this machine's: benchmarks, load tests
    and tests, which may send commands beyond the limits a deployment puts on one address."""
    return {
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers(profile),
        **kafka.client_settings(profile),
        "SCHEMA_REGISTRY_URL": registry.confluent_url(profile),
        "DATABASE_URL": postgres.url(profile, "bank"),
        "LEDGER_DATABASE_URL": postgres.url(profile, "ledger"),
        "REDIS_URL": redis.url(profile),
        "WEB_URL": f"http://127.0.0.1:{profile.ports.web}",
        "COMMAND_LIMIT_EXEMPT_ADDRESSES": "127.0.0.1,::1",
    }


def write_stack_env(profile: Profile) -> None:
    lines = [f"{key}={value}" for key, value in connection_settings(profile).items()]
    header = f"# Written by `python -m devstack run` (profile {profile.name}): how to reach the running stack.\n"
    STACK_ENV_FILE.unlink(missing_ok=True)
    STACK_ENV_FILE.touch(mode=0o600)  # it holds the superuser's password
    STACK_ENV_FILE.write_text(header + "\n".join(lines) + "\n")


def start_services(profile: Profile, supervisor: Supervisor) -> None:
    """Start PostgreSQL, Redis, Kafka and the registry, in parallel where they do not depend on each other."""
    started = time.monotonic()
    if profile.fresh_data:
        forget_data(profile.state)
    profile.logs.mkdir(parents=True, exist_ok=True)
    # Prepare everything first (downloads, initdb, storage format), so that a missing tool fails fast.
    specs = {
        "postgres": postgres.spec(profile),
        "redis": redis.spec(profile),
        **{spec.name: spec for spec in kafka.specs(profile)},
        "registry": registry.spec(profile),
    }
    running = {name: supervisor.start(spec) for name, spec in specs.items()}
    for name, process in running.items():
        process.wait_until_ready(READY_TIMEOUT)
        print(f"{name} is ready ({time.monotonic() - started:.1f}s)", flush=True)
    postgres.create_databases(profile)
    kafka.grant_acls(profile)
    print(f"stack '{profile.name}' is up in {time.monotonic() - started:.1f}s; logs in {profile.logs}", flush=True)


def forget_data(state: Path) -> None:
    """Delete a stack's data (not its certificates or logs), so that it starts as on a fresh machine."""
    for name in DATA:
        path = state / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    print(f"starting from empty data in {state}", flush=True)
