"""Avro bytes to typed messages and back, with the schema registry and the Confluent framing.

Values use confluent-kafka's AvroSerializer/AvroDeserializer with TopicRecordNameStrategy set
explicitly; producers never register schemas (`manage.py sync_topology` does). Keys are usernames
as UTF-8 strings.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
from collections.abc import Iterator
from functools import cache
from typing import Any
from uuid import UUID

import httpx2
from confluent_kafka.schema_registry import (
    SchemaRegistryClient,
    SchemaRegistryError,
    topic_record_subject_name_strategy,
)
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.serde import SchemaId
from confluent_kafka.serialization import MessageField, SerializationContext
from django.conf import settings

from kafka_bridge.retry import Unavailable, registry_error_is_transient
from kafka_bridge.wire.messages import MESSAGE_TYPES, Message
from kafka_bridge.wire.topology import Topology, get_topology

SERIALIZER_CONF = {
    "auto.register.schemas": False,
    "use.latest.version": False,
    "normalize.schemas": False,
    "subject.name.strategy": topic_record_subject_name_strategy,
}


class DecodeError(Exception):
    """A record that cannot become a message: bad framing, unknown schema, or a record not bound to its topic.

    Poison: it will never decode. A registry that does not answer raises `retry.Unavailable` instead.
    """


@contextlib.contextmanager
def registry_answers() -> Iterator[None]:
    """Turn the registry being away (no connection, 5xx, time-out) into `Unavailable`, which loops retry."""
    try:
        yield
    except SchemaRegistryError as error:
        if registry_error_is_transient(error):
            raise Unavailable(f"the schema registry did not answer: {error}") from error
        raise
    except (httpx2.TransportError, OSError) as error:
        raise Unavailable(f"the schema registry did not answer: {error!r}") from error


def message_to_avro(message: Message, ctx: SerializationContext | None = None) -> dict[str, Any]:
    return {
        message.WIRE_NAMES.get(field.name, field.name): _to_wire(getattr(message, field.name))
        for field in dataclasses.fields(message)
    }


def _to_wire(value: Any) -> Any:
    if isinstance(value, UUID):
        return value.bytes
    if isinstance(value, Message):
        return message_to_avro(value)
    if isinstance(value, tuple | list):
        return [_to_wire(item) for item in value]
    return value


def avro_to_message(cls: type[Message], record: dict[str, Any]) -> Message:
    values = {}
    for field in dataclasses.fields(cls):
        value = record[cls.WIRE_NAMES.get(field.name, field.name)]
        if field.name in cls.NESTED:
            value = tuple(avro_to_message(cls.NESTED[field.name], item) for item in value)
        elif field.name in cls.UNIONS:
            value = avro_to_message(_branch_of(cls.UNIONS[field.name], value), value)
        elif field.type in ("UUID", UUID):
            value = UUID(bytes=value)
        values[field.name] = value
    return cls(**values)


def _branch_of(types: tuple[type[Message], ...], record: dict[str, Any]) -> type[Message]:
    """Which record of a union Avro read (it gives a dict, not the record's name): the one with its fields."""
    for cls in types:
        if {cls.WIRE_NAMES.get(f.name, f.name) for f in dataclasses.fields(cls)} == record.keys():
            return cls
    raise ValueError(f"none of {[cls.RECORD for cls in types]} has the fields {sorted(record)}")


def encode_key(username: str) -> bytes:
    return username.encode("utf-8")


def decode_key(key: bytes | None) -> str | None:
    return None if key is None else key.decode("utf-8", errors="replace")


class Codec:
    """Encode and decode the values of every topic in the topology."""

    def __init__(self, registry: SchemaRegistryClient, topology: Topology) -> None:
        self._registry = registry
        # topic -> the full names of the records it may hold (to read) and of those written to it now
        self._bound = {topic.name: {r.name for r in topic.readable} for topic in topology.topics}
        self._written = {topic.name: {r.short_name for r in topic.records} for topic in topology.topics}
        schemas = {record.short_name: record.schema_str for topic in topology.topics for record in topic.readable}
        self._serializers = {
            name: AvroSerializer(registry, schema_str, message_to_avro, conf=SERIALIZER_CONF)
            for name, schema_str in schemas.items()
        }
        self._deserializers = {
            name: AvroDeserializer(registry, schema_str, self._from_avro(MESSAGE_TYPES[name]))
            for name, schema_str in schemas.items()
        }
        self._record_names: dict[int, str] = {}  # schema id -> its record's full name (an id never changes)

    @staticmethod
    def _from_avro(cls: type[Message]):
        return lambda record, ctx: avro_to_message(cls, record)

    def encode(self, topic: str, message: Message) -> bytes:
        topic = str(topic)
        if message.RECORD not in self._written.get(topic, set()):
            raise ValueError(f"{message.RECORD} is not written to topic {topic!r} in the topology")
        try:
            with registry_answers():
                return self._serializers[message.RECORD](message, SerializationContext(topic, MessageField.VALUE))
        except SchemaRegistryError as error:
            # Our own schema, not registered (a subject deleted, a registry started empty): waited for like a
            # registry that is away, never taken as bad data, until `sync_topology` registers it again.
            raise Unavailable(
                f"the registry does not know {message.RECORD} for {topic!r} ({error}): run `manage.py sync_topology`"
            ) from error

    def decode(self, topic: str, value: bytes | None) -> Message:
        """Turn a record value into its message; raise DecodeError with the reason when it cannot."""
        topic = str(topic)
        if value is None:
            raise DecodeError("the record has no value (a tombstone)")
        record_name = self._writer_record_name(value)
        if record_name not in self._bound.get(topic, set()):
            raise DecodeError(f"record {record_name} is not bound to topic {topic!r}")
        try:
            with registry_answers():
                return self._deserializers[record_name.rsplit(".", 1)[-1]](
                    value, SerializationContext(topic, MessageField.VALUE)
                )
        except Unavailable:
            raise
        except Exception as error:  # noqa: BLE001 - whatever else the Avro reader trips on, the bytes are bad
            raise DecodeError(f"cannot decode {record_name}: {error}") from error

    def _writer_record_name(self, value: bytes) -> str:
        """Read the schema id in the Confluent framing and return the full name of the writer's record."""
        try:
            schema_id = SchemaId("AVRO")
            schema_id.from_bytes(io.BytesIO(value))
        except Exception as error:  # noqa: BLE001 - any framing error means "undecodable"
            raise DecodeError(f"no Confluent-framed Avro schema id: {error}") from error
        if schema_id.id not in self._record_names:
            self._record_names[schema_id.id] = self._record_name_of(schema_id.id)
        return self._record_names[schema_id.id]

    def _record_name_of(self, schema_id: int) -> str:
        try:
            with registry_answers():
                schema = json.loads(self._registry.get_schema(schema_id).schema_str)
        except SchemaRegistryError as error:
            raise DecodeError(f"the registry knows no schema with id {schema_id}: {error}") from error
        except ValueError as error:
            raise DecodeError(f"schema {schema_id} is not JSON: {error}") from error
        name = schema.get("name", "") if isinstance(schema, dict) else ""
        namespace = schema.get("namespace") if isinstance(schema, dict) else None
        return name if "." in name or not namespace else f"{namespace}.{name}"


def registry_client(url: str | None = None) -> SchemaRegistryClient:
    return SchemaRegistryClient({"url": url or settings.SCHEMA_REGISTRY_URL, "timeout": 10})


@cache
def get_codec() -> Codec:
    return Codec(registry_client(), get_topology())
