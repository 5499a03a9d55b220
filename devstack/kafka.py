"""Apache Kafka 4 in KRaft mode, from Maven Central's jars: one combined broker and controller, or three.

The cluster profile runs three nodes (each a broker and a controller, a three-voter quorum) with mutual
TLS on every listener, principals from the certificates' CNs, and ACLs per principal (KRaft's
StandardAuthorizer); every topic is replicated three times with min.insync.replicas 2.
"""

from __future__ import annotations

import base64
import logging
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
)

from devstack import maven, tls
from devstack.prerequisites import find_java
from devstack.processes import ProcessSpec, StackError
from devstack.profiles import DOWNLOADS, Profile

HERE = Path(__file__).parent / "kafka"

SERVER_PROPERTIES = """\
# Written by devstack on every start; edit devstack/kafka.py instead.
process.roles=broker,controller
node.id={node}
listeners={protocol}://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners={protocol}://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
listener.security.protocol.map={protocol}:{protocol},CONTROLLER:{protocol}
inter.broker.listener.name={protocol}
controller.listener.names=CONTROLLER
{quorum}
log.dirs={data}
# Topics exist only because `manage.py sync_topology` made them.
auto.create.topics.enable=false
delete.topic.enable=true
compression.type=producer
num.partitions=1
default.replication.factor={replication}
min.insync.replicas={min_isr}
unclean.leader.election.enable=false
offsets.topic.replication.factor={replication}
offsets.topic.num.partitions=6
# A group's offsets outlive any pause of its consumers (Kafka's default forgets them after 7 idle days).
offsets.retention.minutes=5256000
transaction.state.log.replication.factor={replication}
transaction.state.log.min.isr={min_isr}
transaction.state.log.num.partitions=6
share.coordinator.state.topic.replication.factor={replication}
share.coordinator.state.topic.min.isr={min_isr}
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.segment.bytes=104857600
"""

TLS_PROPERTIES = """\
# Mutual TLS on every listener; the principal is the certificate's CN.
ssl.client.auth=required
ssl.keystore.type=PEM
ssl.keystore.location={tls}/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location={tls}/ca.crt
ssl.principal.mapping.rules=RULE:^.*CN=([^,]+).*$/$1/,DEFAULT
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:broker;User:admin
"""


def node_name(profile: Profile, node: int) -> str:
    return "kafka" if profile.brokers == 1 else f"kafka-{node}"


def bootstrap_servers(profile: Profile) -> str:
    return ",".join(f"127.0.0.1:{profile.kafka_port(node)}" for node in range(1, profile.brokers + 1))


def client_settings(profile: Profile, principal: str = tls.ADMIN) -> dict[str, str]:
    """The environment variables that make a process of ours talk to this profile's Kafka as `principal`."""
    if not profile.tls:
        return {}
    folder = tls.own_folder(profile.tls_dir, principal)  # nothing of another principal's, nor the authority's key
    return {
        "KAFKA_SECURITY_PROTOCOL": "SSL",
        "KAFKA_SSL_CA_LOCATION": str(folder / "ca.crt"),
        "KAFKA_SSL_CERTIFICATE_LOCATION": str(folder / f"{principal}.crt"),
        "KAFKA_SSL_KEY_LOCATION": str(folder / f"{principal}.key"),
    }


def librdkafka_settings(profile: Profile, principal: str = tls.ADMIN) -> dict[str, str]:
    if not profile.tls:
        return {"bootstrap.servers": bootstrap_servers(profile)}
    folder = tls.own_folder(profile.tls_dir, principal)
    return {
        "bootstrap.servers": bootstrap_servers(profile),
        "security.protocol": "SSL",
        "ssl.ca.location": str(folder / "ca.crt"),
        "ssl.certificate.location": str(folder / f"{principal}.crt"),
        "ssl.key.location": str(folder / f"{principal}.key"),
    }


def specs(profile: Profile) -> list[ProcessSpec]:
    """Fetch the jars, make the certificates, write each node's configuration, format its storage once."""
    java = find_java()
    lib = maven.copy_dependencies(HERE / "pom.xml", DOWNLOADS / "kafka-lib", "Apache Kafka")
    if profile.tls:
        tls.ensure_certificates(profile.tls_dir)
    cluster_id_file = profile.state / "kafka-cluster-id"
    if not cluster_id_file.exists():
        profile.state.mkdir(parents=True, exist_ok=True)
        cluster_id_file.write_text(new_cluster_id())
    cluster_id = cluster_id_file.read_text().strip()
    with ThreadPoolExecutor() as formatting:  # each node's first format is a JVM start of a few seconds
        return list(
            formatting.map(lambda node: _node_spec(profile, node, java, lib, cluster_id), range(1, profile.brokers + 1))
        )


def _quorum(profile: Profile) -> str:
    """One node: a dynamic quorum of itself (`--standalone`). Three: a static quorum of the three voters."""
    if profile.brokers == 1:
        return f"controller.quorum.bootstrap.servers=127.0.0.1:{profile.controller_port(1)}"
    voters = ",".join(f"{n}@127.0.0.1:{profile.controller_port(n)}" for n in range(1, profile.brokers + 1))
    return f"controller.quorum.voters={voters}"


def _node_spec(profile: Profile, node: int, java: Path, lib: Path, cluster_id: str) -> ProcessSpec:
    name = node_name(profile, node)
    root = profile.state / name
    data, logs = root / "data", profile.logs / name
    for folder in (root, logs):
        folder.mkdir(parents=True, exist_ok=True)
    properties = root / "server.properties"
    replication = min(3, profile.brokers)
    text = SERVER_PROPERTIES.format(
        node=node,
        protocol="SSL" if profile.tls else "PLAINTEXT",
        port=profile.kafka_port(node),
        controller_port=profile.controller_port(node),
        quorum=_quorum(profile),
        data=data,
        replication=replication,
        min_isr=min(2, replication),
    )
    if profile.tls:
        text += TLS_PROPERTIES.format(tls=tls.own_folder(profile.tls_dir, tls.BROKER))
    properties.write_text(text)
    if not (data / "meta.properties").exists():
        format_storage(java, lib, properties, cluster_id, standalone=profile.brokers == 1)
    return ProcessSpec(
        name=name,
        argv=[
            str(java),
            "-Xms256m",
            "-Xmx768m" if profile.brokers > 1 else "-Xmx1g",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={HERE / 'log4j2.yaml'}",
            f"-Dkafka.logs.dir={logs}",
            "-cp",
            f"{lib}/*",
            "kafka.Kafka",
            str(properties),
        ],
        cwd=root,
        ports=(profile.kafka_port(node), profile.controller_port(node)),
        log=logs / "stdout.log",
        ready=lambda: _answers_metadata(profile, node),
        stop_timeout=60,
        stop_together=profile.brokers > 1,  # one by one, the last would wait for a quorum that is gone
    )


def new_cluster_id() -> str:
    """A random cluster id as Kafka makes them: a UUID as 22 characters of url-safe base64, never starting with -.

    (About one id in 64 would start with `-`, which a command line could read as an option.)
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def format_storage(java: Path, lib: Path, properties: Path, cluster_id: str, *, standalone: bool = True) -> None:
    """Format a node's storage once; `--cluster-id=ID` in one word, so that no id can pass for an option.

    A static quorum (`controller.quorum.voters`) needs no `--standalone`; a test's lone node may use it.
    """
    result = subprocess.run(
        [
            str(java),
            "-cp",
            f"{lib}/*",
            "kafka.tools.StorageTool",
            "format",
            *(["--standalone"] if standalone else []),
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


def _answers_metadata(profile: Profile, node: int) -> bool:
    settings = {**librdkafka_settings(profile), "bootstrap.servers": f"127.0.0.1:{profile.kafka_port(node)}"}
    admin = AdminClient({**settings, "logger": _quiet})
    try:
        metadata = admin.list_topics(timeout=2)
        # After a restart the broker answers before it leads its partitions again: wait for that too.
        partitions = [p for topic in metadata.topics.values() for p in topic.partitions.values()]
        return node in metadata.brokers and all(p.leader >= 0 and p.error is None for p in partitions)
    except Exception:  # noqa: BLE001 - any failure means "not ready yet"
        return False


def _topic(name: str, operation: AclOperation, principal: str, pattern=ResourcePatternType.LITERAL) -> AclBinding:
    return AclBinding(ResourceType.TOPIC, name, pattern, f"User:{principal}", "*", operation, AclPermissionType.ALLOW)


def _group(name: str, principal: str, pattern=ResourcePatternType.LITERAL) -> AclBinding:
    return AclBinding(
        ResourceType.GROUP, name, pattern, f"User:{principal}", "*", AclOperation.READ, AclPermissionType.ALLOW
    )


def _transactions(prefix: str, principal: str) -> list[AclBinding]:
    return [
        AclBinding(
            ResourceType.TRANSACTIONAL_ID,
            prefix,
            ResourcePatternType.PREFIXED,
            f"User:{principal}",
            "*",
            op,
            AclPermissionType.ALLOW,
        )
        for op in (AclOperation.WRITE, AclOperation.DESCRIBE)
    ]


def acls() -> list[AclBinding]:
    """Least privilege per principal (the broker and the admin are super users)."""
    read, write, describe = AclOperation.READ, AclOperation.WRITE, AclOperation.DESCRIBE
    events = ("balance_changed", "account_creation_feedback", "money_transfer_feedback")
    events += ("alert_rule_feedback", "alert_settings", "alerts")
    handler_writes = ("account_creation_feedback", "money_transfer_feedback", "balance_changed")
    handler_writes += ("alert_rule_feedback", "alert_settings", "commands_dead_letter", "command_handler_positions")
    everything = ResourcePatternType.PREFIXED
    return [
        # web: commands only; to see lag and health it may describe what exists (no reading of records).
        _topic("commands", write, "web"),
        _topic("*", describe, "web"),
        AclBinding(
            ResourceType.GROUP, "*", ResourcePatternType.LITERAL, "User:web", "*", describe, AclPermissionType.ALLOW
        ),
        # command handler
        _topic("commands", read, "command-handler"),
        _group("command-handler", "command-handler", everything),  # its group, and its readers of its positions
        *(_topic(topic, write, "command-handler") for topic in handler_writes),
        _topic("command_handler_positions", read, "command-handler"),
        *_transactions("command-handler", "command-handler"),
        # projector
        *(_topic(topic, read, "projector") for topic in events),
        _group("projector", "projector"),
        _topic("projector_dead_letter", write, "projector"),
        # alerts
        _topic("balance_changed", read, "alerts"),
        _topic("alert_settings", read, "alerts"),
        _group("alerts", "alerts", everything),  # its group, and each instance's reader of the rules
        _topic("alerts", write, "alerts"),
        _topic("alerts_dead_letter", write, "alerts"),
        *(_topic("alerts_positions", op, "alerts") for op in (read, write)),
        *_transactions("alerts", "alerts"),
        # the load test's ping-pong: topics, groups and transactions of its own
        *(
            _topic("pingpong", op, "loadtest", everything)
            for op in (read, write, describe, AclOperation.CREATE, AclOperation.DELETE)
        ),
        _group("pingpong", "loadtest", everything),
        *_transactions("pingpong", "loadtest"),
    ]


def grant_acls(profile: Profile) -> None:
    if profile.tls:
        grant_acls_with(librdkafka_settings(profile))


def grant_acls_with(settings: dict[str, str]) -> None:
    """Create the ACLs as the admin (idempotent: an ACL that exists is created again as itself)."""
    admin = AdminClient({**settings, "logger": _quiet})
    for binding, future in admin.create_acls(acls(), request_timeout=30).items():
        try:
            future.result(30)
        except Exception as error:  # noqa: BLE001
            raise StackError(f"could not create the ACL {binding}: {error}") from error


def active_controller(profile: Profile) -> int:
    """The node that leads the KRaft quorum now (asked with Kafka's own MetadataQuorumCommand, as the admin)."""
    config = tls.own_folder(profile.tls_dir, tls.ADMIN) / "client.properties"
    if not profile.tls:
        config = profile.state / "plaintext-client.properties"
        config.write_text("\n")
    controllers = ",".join(f"127.0.0.1:{profile.controller_port(n)}" for n in range(1, profile.brokers + 1))
    result = subprocess.run(
        [
            str(find_java()),
            "-cp",
            f"{DOWNLOADS / 'kafka-lib'}/*",
            f"-Dlog4j2.configurationFile={HERE / 'log4j2.yaml'}",
            f"-Dkafka.logs.dir={profile.logs}",  # not the current folder, which is the checkout
            "org.apache.kafka.tools.MetadataQuorumCommand",
            "--bootstrap-controller",
            controllers,
            "--command-config",
            str(config),
            "describe",
            "--status",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    for line in result.stdout.splitlines():
        if line.strip().startswith("LeaderId:"):
            return int(line.split(":", 1)[1])
    raise StackError(f"could not tell the active controller:\n{result.stdout}{result.stderr}")
