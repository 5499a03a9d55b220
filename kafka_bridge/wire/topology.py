"""The topology as data: topics, their partitions and configuration, and the Avro records bound to them.

Read from `topology.toml` (settings.KAFKA_TOPOLOGY_FILE); the records' schemas are `<Record>.avsc` files in
the folder its `schemas` key names, relative to the topology file (`schemas/` by default).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path

from django.conf import settings

SCHEMAS_DIR = Path(__file__).parent / "schemas"  # the shipped topology's schemas


class Topic(StrEnum):
    """The topics the application produces to and consumes from: the original's names."""

    COMMANDS = "commands"
    ACCOUNT_CREATION_FEEDBACK = "account_creation_feedback"
    MONEY_TRANSFER_FEEDBACK = "money_transfer_feedback"
    BALANCE_CHANGED = "balance_changed"
    COMMANDS_DEAD_LETTER = "commands_dead_letter"
    PROJECTOR_DEAD_LETTER = "projector_dead_letter"
    ALERT_RULE_FEEDBACK = "alert_rule_feedback"
    ALERT_SETTINGS = "alert_settings"
    ALERTS = "alerts"
    ALERTS_DEAD_LETTER = "alerts_dead_letter"
    ALERTS_POSITIONS = "alerts_positions"
    COMMAND_HANDLER_POSITIONS = "command_handler_positions"


class TopologyError(Exception):
    """The topology file or a schema it names is missing or malformed."""


@dataclass(frozen=True)
class RecordSchema:
    name: str  # full name, e.g. nl.openweb.data.ConfirmMoneyTransfer
    schema_str: str

    @property
    def short_name(self) -> str:
        return self.name.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication_factor: int
    records: tuple[RecordSchema, ...] = ()  # written and read
    config: dict[str, str] = field(default_factory=dict)
    retired: tuple[RecordSchema, ...] = ()  # earlier versions its records replaced: read, never written

    @property
    def readable(self) -> tuple[RecordSchema, ...]:
        return self.records + self.retired

    def subject(self, record: RecordSchema) -> str:
        """The registry subject of `record` on this topic (TopicRecordNameStrategy)."""
        return f"{self.name}-{record.name}"


@dataclass(frozen=True)
class Topology:
    topics: tuple[TopicSpec, ...]
    compatibility: str
    keep: tuple[str, ...] = ()  # regular expressions of topic names that `--prune` never deletes

    def topic(self, name: str) -> TopicSpec:
        for topic in self.topics:
            if topic.name == name:
                return topic
        raise KeyError(name)

    def subjects(self) -> dict[str, RecordSchema]:
        return {topic.subject(record): record for topic in self.topics for record in topic.readable}


def load_schema(namespace: str, record: str, schemas_dir: Path = SCHEMAS_DIR) -> RecordSchema:
    path = schemas_dir / f"{record}.avsc"
    try:
        schema = json.loads(path.read_text())
    except FileNotFoundError:
        raise TopologyError(f"the topology names record {record!r}, but {path} does not exist") from None
    except json.JSONDecodeError as error:
        raise TopologyError(f"{path} is not valid JSON: {error}") from None
    full_name = f"{schema.get('namespace', namespace)}.{schema['name']}"
    if full_name != f"{namespace}.{record}":
        raise TopologyError(f"{path} defines {full_name}, expected {namespace}.{record}")
    return RecordSchema(name=full_name, schema_str=json.dumps(schema, separators=(",", ":")))


def parse_topology(path: Path) -> Topology:
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise TopologyError(f"cannot read topology {path}: {error}") from None
    schemas_dir = path.parent / data.get("schemas", "schemas")
    namespace = data.get("namespace", "nl.openweb.data")
    topics = []
    for name, spec in data.get("topics", {}).items():
        try:
            topics.append(
                TopicSpec(
                    name=name,
                    partitions=int(spec["partitions"]),
                    replication_factor=int(spec["replication_factor"]),
                    records=tuple(load_schema(namespace, record, schemas_dir) for record in spec.get("records", [])),
                    config={key: str(value) for key, value in spec.get("config", {}).items()},
                    retired=tuple(load_schema(namespace, record, schemas_dir) for record in spec.get("retired", [])),
                )
            )
        except KeyError as missing:
            raise TopologyError(f"topic {name!r} in {path} lacks {missing}") from None
    return Topology(
        topics=tuple(topics),
        compatibility=data.get("compatibility", "BACKWARD"),
        keep=tuple(data.get("keep", ())),
    )


@cache
def get_topology() -> Topology:
    return parse_topology(Path(settings.KAFKA_TOPOLOGY_FILE))
