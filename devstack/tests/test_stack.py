import shutil
import socket
import time

import psycopg

from devstack import postgres, profiles
from devstack.processes import Supervisor
from devstack.profiles import PROFILES, Ports, Profile
from devstack.stack import forget_data


def test_forgetting_a_stacks_data_keeps_its_certificates_and_logs(tmp_path):
    for folder in ("kafka/data", "postgres/base", "redis", "registry/h2", "tls", "logs"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "file").write_text("x")
    (tmp_path / "kafka-cluster-id").write_text("id")

    forget_data(tmp_path)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["logs", "tls"]


def test_only_the_load_tests_stack_starts_from_empty_data():
    assert [name for name, profile in PROFILES.items() if profile.fresh_data] == ["loadtest"]


def test_postgresql_stops_at_once_while_a_client_is_connected(monkeypatch):
    """SIGTERM is PostgreSQL's "smart" shutdown, which waits for every client to leave: a fault test's
    ten-second outage became forty, and ended in a SIGKILL and crash recovery."""
    monkeypatch.setattr(profiles, "STACK_ROOT", profiles.STACK_ROOT / "postgres-stop-test")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    profile = Profile("stop", Ports(postgres=port, redis=0, kafka=0, kafka_controller=0, registry=0, web=0), False)
    supervisor = Supervisor()
    try:
        supervisor.start(postgres.spec(profile)).wait_until_ready(timeout=60)
        with psycopg.connect(postgres.url(profile, "postgres")):
            started = time.monotonic()
            supervisor.stop("postgres")
            stopped_after = time.monotonic() - started
        log = (profile.logs / "postgres.log").read_text()
    finally:
        supervisor.stop_all()
        shutil.rmtree(profiles.STACK_ROOT, ignore_errors=True)

    assert "received fast shutdown request" in log
    assert stopped_after < 10
