"""Compare the cluster and the schema registry with the topology, and make them match.

`plan_sync` only reads: it returns the changes that would make the cluster match, and the problems no
change can fix (an incompatible schema, a topic with more partitions than declared). `apply` carries a
plan out, schemas first, as the original synchronizer did.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewPartitions,
    NewTopic,
)
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient, SchemaRegistryError

from kafka_bridge.retry import with_retries
from kafka_bridge.wire.codecs import registry_answers
from kafka_bridge.wire.topology import TopicSpec, Topology

APICURIO_CCOMPAT = "/apis/ccompat/v7"
SUBJECT_NOT_FOUND = 40401
SCHEMA_NOT_FOUND = 40403


@dataclass(frozen=True)
class Change:
    """One step towards the topology, e.g. `create topic commands (24 partitions, ...)`."""

    action: str
    target: str
    detail: str = ""
    run: Callable[[], Any] = field(default=lambda: None, compare=False, repr=False)

    def __str__(self) -> str:
        return f"{self.action} {self.target}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def in_sync(self) -> bool:
        return not self.changes and not self.problems


class TopologySync:
    def __init__(
        self, admin: AdminClient, registry: SchemaRegistryClient, topology: Topology, timeout: float = 15.0
    ) -> None:
        self.admin = admin
        self.registry = registry
        self.topology = topology
        self.timeout = timeout

    # -- reading ------------------------------------------------------------------------------

    def wait_until_reachable(self, seconds: float) -> None:
        """Poll the broker and the registry until both answer, or raise the last error after `seconds`."""

        def reach() -> None:
            self.admin.list_topics(timeout=min(5.0, max(seconds, 0.5)))
            with registry_answers():
                self.registry.get_subjects()

        with_retries(reach, "reaching the broker and the registry", deadline=seconds)

    def plan(self, prune: bool = False) -> Plan:
        plan = Plan()
        self._plan_schemas(plan)
        self._plan_topics(plan, prune)
        return plan

    def _plan_schemas(self, plan: Plan) -> None:
        """Each subject's schema registered, and its compatibility level set (after its first version: a
        registry may know a subject's level only once the subject exists). A new version the registry finds
        incompatible, under the subject's level now, with any version of the subject is a problem."""
        wanted = self.topology.compatibility
        for subject, record in self.topology.subjects().items():
            schema = Schema(record.schema_str, "AVRO")
            status = self._registration_status(subject, schema)
            if status == "new version" and not self._is_compatible(subject, schema):
                plan.problems.append(
                    f"schema {record.name} is not compatible with every version of subject {subject} "
                    f"(its level: {self._level_of(subject)}): {self._why_incompatible(subject, schema)}"
                )
                continue
            if status != "registered":
                register = functools.partial(self.registry.register_schema, subject, schema)
                plan.changes.append(Change("register schema", subject, status, register))
            level = "unset" if status == "new subject" else self._level_of(subject)
            if level != wanted:
                set_level = functools.partial(self.registry.set_compatibility, subject_name=subject, level=wanted)
                plan.changes.append(Change("set compatibility", subject, f"{level} -> {wanted}", set_level))

    def _is_compatible(self, subject: str, schema: Schema) -> bool:
        try:
            return with_retries(lambda: self.registry.test_compatibility_all_versions(subject, schema))
        except SchemaRegistryError as error:
            if error.error_code == SUBJECT_NOT_FOUND:  # its versions deleted: nothing to be incompatible with
                return True
            raise

    def _why_incompatible(self, subject: str, schema: Schema) -> str:
        """The registry's own reasons. Confluent's registry gives them to a verbose compatibility test (the client
        keeps only the boolean, so its REST client is asked); Apicurio's ccompat API gives none, and its own API
        is asked for a dry run of the registration, which registers nothing."""
        rest = self.registry._rest_client
        path = f"compatibility/subjects/{quote(subject, safe='')}/versions?verbose=true"
        reasons = with_retries(lambda: rest.post(path, body=schema.to_dict())).get("messages") or []
        base = rest.base_urls[0].rstrip("/")
        if not reasons and base.endswith(APICURIO_CCOMPAT):
            native = f"{base.removesuffix(APICURIO_CCOMPAT)}/apis/registry/v3/groups/default/artifacts"
            content = {"content": {"content": schema.schema_str, "contentType": "application/json"}}
            answer = rest.session.post(f"{native}/{quote(subject, safe='')}/versions?dryRun=true", json=content)
            if answer.status_code >= 400:
                causes = answer.json().get("causes") or []
                reasons = [f"{cause.get('description')} at {cause.get('context')}" for cause in causes]
        return "; ".join(str(reason) for reason in reasons) or "the registry gives no reason"

    def _level_of(self, subject: str) -> str:
        """The subject's own level ("unset" when it has none: Confluent's registry answers 404 then, Apicurio's
        ccompat API NONE)."""
        try:
            return with_retries(lambda: self.registry.get_compatibility(subject_name=subject))
        except SchemaRegistryError as error:
            if error.http_status_code == 404:
                return "unset"
            raise

    def _registration_status(self, subject: str, schema: Schema) -> str:
        try:
            with_retries(lambda: self.registry.lookup_schema(subject, schema))
            return "registered"
        except SchemaRegistryError as error:
            if error.error_code == SUBJECT_NOT_FOUND:
                return "new subject"
            if error.error_code == SCHEMA_NOT_FOUND or error.http_status_code == 404:
                return "new version"
            raise

    def _plan_topics(self, plan: Plan, prune: bool) -> None:
        metadata = with_retries(lambda: self.admin.list_topics(timeout=self.timeout))
        brokers = len(metadata.brokers)
        existing = metadata.topics
        declared = {topic.name for topic in self.topology.topics}
        for topic in self.topology.topics:
            replication = min(topic.replication_factor, brokers)
            if topic.name not in existing:
                detail = f"{topic.partitions} partitions, replication {replication}"
                detail += "".join(f", {key}={value}" for key, value in topic.config.items())
                plan.changes.append(
                    Change("create topic", topic.name, detail, functools.partial(self._create, topic, replication))
                )
                continue
            partitions = existing[topic.name].partitions
            if len(partitions) < topic.partitions:
                plan.changes.append(
                    Change(
                        "add partitions",
                        topic.name,
                        f"{len(partitions)} -> {topic.partitions}",
                        functools.partial(self._add_partitions, topic),
                    )
                )
            elif len(partitions) > topic.partitions:
                plan.problems.append(
                    f"topic {topic.name} has {len(partitions)} partitions, more than the "
                    f"{topic.partitions} declared; Kafka cannot remove partitions"
                )
            current_replication = min((len(p.replicas) for p in partitions.values()), default=replication)
            if current_replication != replication:
                plan.problems.append(
                    f"topic {topic.name} has replication {current_replication}, the topology wants "
                    f"{replication}; reassign its partitions with kafka-reassign-partitions"
                )
            self._plan_config(plan, topic)
        if prune:
            for name in sorted(existing):
                if name not in declared and not self._kept(name):
                    plan.changes.append(
                        Change(
                            "delete topic",
                            name,
                            "not in the topology",
                            functools.partial(self._delete, name),
                        )
                    )

    def _plan_config(self, plan: Plan, topic: TopicSpec) -> None:
        resource = ConfigResource(ConfigResource.Type.TOPIC, topic.name)
        entries = with_retries(lambda: self._wait(self.admin.describe_configs([resource]))[resource])
        operations = []
        for key, value in topic.config.items():
            current = entries.get(key)
            if current is None or current.value != value:
                was = current.value if current is not None else "unset"
                operations.append(
                    (
                        f"{key}={value}",
                        f"was {was}",
                        ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET),
                    )
                )
        for key, entry in entries.items():
            if key not in topic.config and entry.source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value:
                operations.append(
                    (
                        f"{key} back to default",
                        f"was {entry.value}",
                        ConfigEntry(key, None, incremental_operation=AlterConfigOpType.DELETE),
                    )
                )
        for label, was, entry in operations:
            plan.changes.append(
                Change(
                    "alter config",
                    topic.name,
                    f"{label}, {was}",
                    functools.partial(self._alter_config, topic.name, entry),
                )
            )

    def _kept(self, name: str) -> bool:
        """Kafka's internal topics, and those the topology's `keep` patterns protect, are never pruned."""
        return name.startswith("__") or any(re.search(pattern, name) for pattern in self.topology.keep)

    # -- writing ------------------------------------------------------------------------------

    def _add_partitions(self, topic: TopicSpec) -> None:
        self._wait(self.admin.create_partitions([NewPartitions(topic.name, topic.partitions)]))

    def _delete(self, name: str) -> None:
        self._wait(self.admin.delete_topics([name]))

    def _create(self, topic: TopicSpec, replication: int) -> None:
        new_topic = NewTopic(
            topic.name, num_partitions=topic.partitions, replication_factor=replication, config=dict(topic.config)
        )
        try:
            self._wait(self.admin.create_topics([new_topic]))
        except KafkaException as error:
            if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:  # a retry after a slow success
                raise

    def _alter_config(self, topic: str, entry: ConfigEntry) -> None:
        resource = ConfigResource(ConfigResource.Type.TOPIC, topic, incremental_configs=[entry])
        self._wait(self.admin.incremental_alter_configs([resource]))

    def _wait(self, futures: dict[Any, Any]) -> dict[Any, Any]:
        return {key: future.result(timeout=self.timeout) for key, future in futures.items()}

    def settled_plan(self, prune: bool = False, seconds: float = 15.0) -> Plan:
        """Plan again until nothing is left to do or `seconds` pass: new topics take a moment to show up."""
        return with_retries(lambda: self.plan(prune=prune), "planning", deadline=seconds, until=lambda p: p.in_sync)

    def apply(self, plan: Plan, report: Callable[[str], None] = print) -> None:
        for change in plan.changes:
            with_retries(change.run)
            report(f"  done: {change}")
