"""Apache Kafka 4 in KRaft mode: one combined broker and controller, from Maven Central's jars."""

from __future__ import annotations

import base64
import logging
import subprocess
import uuid
from pathlib import Path

from confluent_kafka.admin import AdminClient

from devstack import maven
from devstack.prerequisites import find_java
from devstack.processes import ProcessSpec, StackError
from devstack.profiles import DOWNLOADS, Profile

HERE = Path(__file__).parent / "kafka"

SERVER_PROPERTIES = """\
# Written by devstack on every start; edit devstack/kafka.py instead.
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
controller.quorum.bootstrap.servers=127.0.0.1:{controller_port}
log.dirs={data}
# Topics exist only because `manage.py sync_topology` made them.
auto.create.topics.enable=false
delete.topic.enable=true
compression.type=lz4
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
# One node: internal topics (consumer offsets, transaction state) cannot be replicated.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=6
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.segment.bytes=104857600
"""


def bootstrap_servers(profile: Profile) -> str:
    return f"127.0.0.1:{profile.ports.kafka}"


def spec(profile: Profile) -> ProcessSpec:
    """Fetch the jars, write the configuration, format the storage once, and describe the broker."""
    java = find_java()
    lib = maven.copy_dependencies(HERE / "pom.xml", DOWNLOADS / "kafka-lib", "Apache Kafka")
    root = profile.state / "kafka"
    data, logs = root / "data", profile.logs / "kafka"
    for folder in (root, logs):
        folder.mkdir(parents=True, exist_ok=True)
    properties = root / "server.properties"
    properties.write_text(
        SERVER_PROPERTIES.format(port=profile.ports.kafka, controller_port=profile.ports.kafka_controller, data=data)
    )
    classpath = ["-cp", f"{lib}/*"]
    if not (data / "meta.properties").exists():
        format_storage(java, lib, properties, new_cluster_id())
    return ProcessSpec(
        name="kafka",
        argv=[
            str(java),
            "-Xms256m",
            "-Xmx1g",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={HERE / 'log4j2.yaml'}",
            f"-Dkafka.logs.dir={logs}",
            *classpath,
            "kafka.Kafka",
            str(properties),
        ],
        cwd=root,
        ports=(profile.ports.kafka, profile.ports.kafka_controller),
        log=logs / "stdout.log",
        ready=lambda: _answers_metadata(profile),
        stop_timeout=60,
    )


def new_cluster_id() -> str:
    """A random cluster id as Kafka makes them: a UUID as 22 characters of url-safe base64, never starting with -.

    (About one id in 64 would start with `-`, which a command line could read as an option.)
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def format_storage(java: Path, lib: Path, properties: Path, cluster_id: str) -> None:
    """Format a node's storage once; `--cluster-id=ID` in one word, so that no id can pass for an option."""
    result = subprocess.run(
        [
            str(java),
            "-cp",
            f"{lib}/*",
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            f"--cluster-id={cluster_id}",
            "--config",
            str(properties),
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise StackError(f"formatting Kafka's storage failed:\n{result.stdout}{result.stderr}")


_quiet = logging.getLogger("devstack.kafka.probe")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False


def _answers_metadata(profile: Profile) -> bool:
    admin = AdminClient({"bootstrap.servers": bootstrap_servers(profile), "logger": _quiet})
    try:
        metadata = admin.list_topics(timeout=2)
        # After a restart the broker answers before it leads its partitions again: wait for that too.
        partitions = [p for topic in metadata.topics.values() for p in topic.partitions.values()]
        return bool(metadata.brokers) and all(p.leader >= 0 and p.error is None for p in partitions)
    except Exception:  # noqa: BLE001 - any failure means "not ready yet"
        return False
