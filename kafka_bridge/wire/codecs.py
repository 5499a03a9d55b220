"""Avro bytes to typed messages and back, with the schema registry and the Confluent framing.

Values are Confluent-framed Avro (a zero byte, the schema's id in four bytes, the record), written and read with
fastavro directly: the same bytes as confluent-kafka's AvroSerializer, without its per-record machinery (rules,
contexts, subject lookups), which cost a fifth of a millisecond per transfer across the processes. Subjects
follow TopicRecordNameStrategy; producers never register schemas (`manage.py sync_topology` does), they look
their ids up once. Keys are usernames as UTF-8 strings.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import struct
from collections.abc import Iterator
from functools import cache
from typing import Any
from uuid import UUID

import fastavro
import httpx2
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient, SchemaRegistryError
from django.conf import settings

from kafka_bridge.retry import Unavailable, registry_error_is_transient
from kafka_bridge.wire.messages import MESSAGE_TYPES, Message
from kafka_bridge.wire.topology import Topology, get_topology

FRAMING = struct.Struct(">bI")  # Confluent's: the magic byte 0 and the schema id


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


def message_to_avro(message: Message) -> dict[str, Any]:
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
        self._full_names = {r.short_name: r.name for topic in topology.topics for r in topic.readable}
        self._schema_strs = {r.short_name: r.schema_str for topic in topology.topics for r in topic.readable}
        self._schemas = {name: _parsed(schema_str) for name, schema_str in self._schema_strs.items()}
        self._ids: dict[tuple[str, str], int] = {}  # (topic, record) -> its schema's id under the topic's subject
        self._writers: dict[int, tuple[str, Any]] = {}  # schema id -> its record's full name and parsed schema

    def encode(self, topic: str, message: Message) -> bytes:
        topic = str(topic)
        if message.RECORD not in self._written.get(topic, set()):
            raise ValueError(f"{message.RECORD} is not written to topic {topic!r} in the topology")
        key = (topic, message.RECORD)
        schema_id = self._ids[key] if key in self._ids else self._look_up_id(topic, message.RECORD)
        out = io.BytesIO()
        out.write(FRAMING.pack(0, schema_id))
        fastavro.schemaless_writer(out, self._schemas[message.RECORD], message_to_avro(message))
        return out.getvalue()

    def _look_up_id(self, topic: str, record: str) -> int:
        subject = f"{topic}-{self._full_names[record]}"  # TopicRecordNameStrategy
        try:
            with registry_answers():
                found = self._registry.lookup_schema(subject, Schema(self._schema_strs[record], "AVRO"))
        except SchemaRegistryError as error:
            # Our own schema, not registered (a subject deleted, a registry started empty): waited for like a
            # registry that is away, never taken as bad data, until `sync_topology` registers it again.
            raise Unavailable(
                f"the registry does not know {record} for {topic!r} ({error}): run `manage.py sync_topology`"
            ) from error
        self._ids[(topic, record)] = found.schema_id
        return found.schema_id

    def decode(self, topic: str, value: bytes | None) -> Message:
        """Turn a record value into its message; raise DecodeError with the reason when it cannot."""
        topic = str(topic)
        if value is None:
            raise DecodeError("the record has no value (a tombstone)")
        record_name, writer = self._writer_of(value)
        if record_name not in self._bound.get(topic, set()):
            raise DecodeError(f"record {record_name} is not bound to topic {topic!r}")
        short_name = record_name.rsplit(".", 1)[-1]
        try:
            record = fastavro.schemaless_reader(io.BytesIO(value[FRAMING.size :]), writer, self._schemas[short_name])
            return avro_to_message(MESSAGE_TYPES[short_name], record)  # type: ignore[arg-type]
        except Exception as error:  # noqa: BLE001 - whatever else the Avro reader trips on, the bytes are bad
            raise DecodeError(f"cannot decode {record_name}: {error}") from error

    def _writer_of(self, value: bytes) -> tuple[str, Any]:
        """The full name and the parsed schema of the record that wrote `value`, by the id in its framing."""
        if len(value) < FRAMING.size or value[0] != 0:
            raise DecodeError("no Confluent-framed Avro schema id: the record does not start with the magic byte 0")
        (_, schema_id) = FRAMING.unpack_from(value)
        if schema_id not in self._writers:
            self._writers[schema_id] = self._writer_schema(schema_id)
        return self._writers[schema_id]

    def _writer_schema(self, schema_id: int) -> tuple[str, Any]:
        try:
            with registry_answers():
                schema_str = self._registry.get_schema(schema_id).schema_str
        except SchemaRegistryError as error:
            raise DecodeError(f"the registry knows no schema with id {schema_id}: {error}") from error
        try:
            schema = json.loads(schema_str)
            parsed = fastavro.parse_schema(schema)
        except ValueError as error:
            raise DecodeError(f"schema {schema_id} is not Avro: {error}") from error
        name = schema.get("name", "") if isinstance(schema, dict) else ""
        namespace = schema.get("namespace") if isinstance(schema, dict) else None
        return (name if "." in name or not namespace else f"{namespace}.{name}"), parsed


def _parsed(schema_str: str) -> Any:
    return fastavro.parse_schema(json.loads(schema_str))


def registry_client(url: str | None = None) -> SchemaRegistryClient:
    return SchemaRegistryClient({"url": url or settings.SCHEMA_REGISTRY_URL, "timeout": 10})


@cache
def get_codec() -> Codec:
    return Codec(registry_client(), get_topology())
