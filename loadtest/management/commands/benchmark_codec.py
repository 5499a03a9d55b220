"""manage.py benchmark_codec: the codec's CPU per record against confluent-kafka's AvroSerializer/Deserializer."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import uuid4

from confluent_kafka.schema_registry import topic_record_subject_name_strategy
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from django.core.management.base import BaseCommand

from kafka_bridge.wire.codecs import avro_to_message, get_codec, message_to_avro, registry_client
from kafka_bridge.wire.messages import BalanceChanged, ConfirmMoneyTransfer, Message, MoneyTransferConfirmed
from kafka_bridge.wire.topology import get_topology

# The three records every transfer writes and reads (its command, its feedback, each of its balance changes).
RECORDS: list[tuple[str, Message]] = [
    ("commands", ConfirmMoneyTransfer(uuid4(), "1" * 20, 1234, "cash", "NL66OPEN0000000000", "a deposit", "R-1")),
    ("money_transfer_feedback", MoneyTransferConfirmed(uuid4())),
    ("balance_changed", BalanceChanged("NL66OPEN0000000000", 1234, 1234, "cash", "a deposit", datetime.now(UTC), "")),
]
CONF = {
    "auto.register.schemas": False,
    "use.latest.version": False,
    "subject.name.strategy": topic_record_subject_name_strategy,
}


def _cpu_us(work: Callable[[], object], times: int) -> float:
    started = time.process_time()
    for _ in range(times):
        work()
    return (time.process_time() - started) / times * 1e6


def _timings(topic: str, message: Message, schema: str, times: int) -> tuple[float, float, float, float]:
    """CPU per encoding and decoding of `message` on `topic`: confluent-kafka's, then ours (the same bytes)."""
    codec, registry, cls = get_codec(), registry_client(), type(message)
    context = SerializationContext(topic, MessageField.VALUE)
    write = AvroSerializer(registry, schema, lambda m, ctx: message_to_avro(m), conf=CONF)
    read = AvroDeserializer(registry, schema, lambda record, ctx: avro_to_message(cls, record))
    value = codec.encode(topic, message)
    assert write(message, context) == value and read(value, context) == codec.decode(topic, value)
    return (
        _cpu_us(lambda: write(message, context), times),
        _cpu_us(lambda: read(value, context), times),
        _cpu_us(lambda: codec.encode(topic, message), times),
        _cpu_us(lambda: codec.decode(topic, value), times),
    )


class Command(BaseCommand):
    help = "Time encoding and decoding the records of a transfer, ours against confluent-kafka's, in alternate rounds."

    def add_arguments(self, parser):
        parser.add_argument("--rounds", type=int, default=3)
        parser.add_argument("--times", type=int, default=5000, help="encodings and decodings of each record a round")

    def handle(self, *args, rounds, times, **options):
        schemas = {r.short_name: r.schema_str for topic in get_topology().topics for r in topic.readable}
        self.stdout.write(f"machine: {platform.node()}, {os.cpu_count()} CPUs; microseconds of CPU per record")
        for round_ in range(1, rounds + 1):
            each = [_timings(topic, message, schemas[message.RECORD], times) for topic, message in RECORDS]
            their_encode, their_decode, our_encode, our_decode = (sum(t) / len(each) for t in zip(*each, strict=True))
            self.stdout.write(
                f"round {round_}: confluent-kafka encode {their_encode:.1f}, decode {their_decode:.1f}; "
                f"ours encode {our_encode:.1f}, decode {our_decode:.1f}"
            )
