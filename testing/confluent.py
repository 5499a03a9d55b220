"""confluent-kafka's own Avro serializer and deserializer, as another producer or consumer would use them: the
tests hold the codec's bytes to theirs."""

from __future__ import annotations

from typing import Any

from confluent_kafka.schema_registry import SchemaRegistryClient, topic_record_subject_name_strategy
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer

from kafka_bridge.wire.codecs import message_to_avro
from kafka_bridge.wire.messages import Message

SERIALIZER_CONF = {
    "auto.register.schemas": False,
    "use.latest.version": False,
    "normalize.schemas": False,
    "subject.name.strategy": topic_record_subject_name_strategy,
}


def _as_avro(value: Any, ctx: object) -> dict[str, Any]:
    return message_to_avro(value) if isinstance(value, Message) else value


def confluent_serializer(registry: SchemaRegistryClient, schema_str: str) -> AvroSerializer:
    """Writes a message (or a plain record) with `schema_str`, looked up under the topic's subject."""
    return AvroSerializer(registry, schema_str, _as_avro, conf=SERIALIZER_CONF)


def confluent_deserializer(registry: SchemaRegistryClient, schema_str: str) -> AvroDeserializer:
    """Reads any record of our framing into a plain record of `schema_str`."""
    return AvroDeserializer(registry, schema_str)
