"""Where each stack keeps its state and which ports it listens on.

Two profiles, so that `make test` can run while `make run` is up: each has its own ports and data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STACK_ROOT = PROJECT_ROOT / ".stack"
DOWNLOADS = STACK_ROOT / "downloads"
STACK_ENV_FILE = PROJECT_ROOT / ".stack.env"


@dataclass(frozen=True)
class Ports:
    postgres: int
    redis: int
    kafka: int
    kafka_controller: int
    registry: int
    web: int


@dataclass(frozen=True)
class Profile:
    name: str
    ports: Ports
    durable: bool  # False trades crash safety for speed (fsync off): fine for throwaway test data
    instances: dict[str, int] = field(default_factory=dict)  # Procfile process -> how many (1 if not named)
    brokers: int = 1  # Kafka nodes, each a broker and a controller
    tls: bool = False  # mutual TLS on every Kafka listener, and ACLs per principal
    passwords: bool = False  # PostgreSQL asks every connection over TCP for its role's password
    fresh_data: bool = False  # every start begins with empty Kafka, registry, PostgreSQL and Redis

    def kafka_port(self, node: int) -> int:
        return self.ports.kafka + 100 * (node - 1)

    def controller_port(self, node: int) -> int:
        return self.ports.kafka_controller + 100 * (node - 1)

    @property
    def tls_dir(self) -> Path:
        return self.state / "tls"

    @property
    def state(self) -> Path:
        return STACK_ROOT / self.name

    @property
    def logs(self) -> Path:
        return self.state / "logs"


CLUSTER_INSTANCES = {"web": 2, "command-handler": 2, "projector": 2}

PROFILES = {
    "run": Profile(
        "run",
        Ports(postgres=54320, redis=63790, kafka=9092, kafka_controller=9093, registry=8081, web=8000),
        durable=True,
    ),
    # `make loadtest`: like `run`, on ports of its own, and from empty data every time, as the original's
    # runs were; the bank of `make run` is left as it is.
    # The stacks that tests and load tests start keep every port below Linux's ephemeral range (32768-60999):
    # a client connection from the same port (or one closed a moment ago, in TIME_WAIT for 60 s) keeps a
    # server from binding it, which once failed make test's cluster start twice in a row.
    "loadtest": Profile(
        "loadtest",
        Ports(postgres=25436, redis=63830, kafka=21092, kafka_controller=21093, registry=20081, web=20000),
        durable=True,
        fresh_data=True,
    ),
    "test": Profile(
        "test",
        Ports(postgres=25433, redis=63800, kafka=19092, kafka_controller=19093, registry=18081, web=18000),
        durable=False,
    ),
    # The production shape: three Kafka nodes with mutual TLS and ACLs, two of each application process.
    "cluster": Profile(
        "cluster",
        Ports(postgres=54340, redis=63810, kafka=29092, kafka_controller=29093, registry=28081, web=28000),
        durable=True,
        instances=CLUSTER_INSTANCES,
        brokers=3,
        tls=True,
        passwords=True,
    ),
    "cluster-test": Profile(
        "cluster-test",
        Ports(postgres=25435, redis=63820, kafka=31092, kafka_controller=31093, registry=30081, web=30000),
        durable=False,
        instances=CLUSTER_INSTANCES,
        brokers=3,
        tls=True,
        passwords=True,
    ),
}


def get_profile(name: str) -> Profile:
    profile = PROFILES[name]
    web_port = os.environ.get("WEB_PORT")
    if web_port:
        profile = replace(profile, ports=replace(profile.ports, web=int(web_port)))
    web_processes = os.environ.get("WEB_PROCESSES")
    if web_processes:
        profile = replace(profile, instances={**profile.instances, "web": int(web_processes)})
    return profile


def read_procfile() -> dict[str, str]:
    """Parse the Procfile: one `name: command` a line, # for comments."""
    processes = {}
    for line in (PROJECT_ROOT / "Procfile").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, command = line.split(":", 1)
            processes[name.strip()] = command.strip()
    return processes
