"""The codec against the real registry and broker: what one process produces, a fresh consumer reads back."""

import uuid

import pytest
from confluent_kafka import TopicPartition
from confluent_kafka.serialization import MessageField, SerializationContext
from django.core.management import call_command

from kafka_bridge import clients
from kafka_bridge.logging import silent_librdkafka_logger
from kafka_bridge.wire.codecs import DecodeError, avro_to_message, decode_key, encode_key, get_codec, registry_client
from kafka_bridge.wire.messages import AlertTriggered, BalanceChanged, ConfirmMoneyTransfer, MoneyTransferFailed
from kafka_bridge.wire.topology import Topic, get_topology
from testing.confluent import confluent_deserializer, confluent_serializer
from testing.records import EXAMPLES

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def synced(stack):
    call_command("sync_topology", "--wait=30")


def produce(topic: str, key: bytes, value: bytes) -> tuple[int, int]:
    """Produce one record and return its (partition, offset) once the broker has it."""
    delivered = []
    producer = clients.producer()
    producer.produce(topic, key=key, value=value, on_delivery=lambda err, msg: delivered.append((err, msg)))
    producer.flush(10)
    ((error, message),) = delivered
    assert error is None
    return message.partition(), message.offset()


def read_back(topic: str, partition: int, offset: int):
    consumer = clients.consumer(f"test-{uuid.uuid4()}", **{"logger": silent_librdkafka_logger()})
    consumer.assign([TopicPartition(topic, partition, offset)])
    try:
        record = consumer.poll(15)
        assert record is not None and record.error() is None
        return record
    finally:
        consumer.close()


def test_a_transfer_command_is_read_back_by_a_fresh_consumer_as_the_same_message(synced):
    codec = get_codec()
    command = ConfirmMoneyTransfer(
        id=uuid.uuid4(),
        token="12345678901234567890",
        amount_cents=1111,
        from_account="NL01OPEN0123456789",
        to_account="NL66OPEN0000000000",
        description="lunch",
    )

    partition, offset = produce(Topic.COMMANDS, encode_key("alice"), codec.encode(Topic.COMMANDS, command))
    record = read_back(Topic.COMMANDS, partition, offset)

    assert decode_key(record.key()) == "alice"
    assert codec.decode(Topic.COMMANDS, record.value()) == command
    assert record.value()[0] == 0  # Confluent framing: magic byte, then the 4-byte schema id


def test_records_sharing_a_topic_come_back_as_their_own_types(synced):
    codec = get_codec()
    failed = MoneyTransferFailed(id=uuid.uuid4(), reason="insufficient funds")

    partition, offset = produce(
        Topic.MONEY_TRANSFER_FEEDBACK, b"bob", codec.encode(Topic.MONEY_TRANSFER_FEEDBACK, failed)
    )

    assert (
        codec.decode(Topic.MONEY_TRANSFER_FEEDBACK, read_back(Topic.MONEY_TRANSFER_FEEDBACK, partition, offset).value())
        == failed
    )


def test_a_record_on_the_wrong_topic_is_refused_with_a_reason(synced):
    codec = get_codec()
    event = codec.encode(
        Topic.BALANCE_CHANGED,
        BalanceChanged(
            iban="NL66OPEN0000000000", new_balance_cents=1, changed_by_cents=1, counterparty="cash", description=""
        ),
    )

    with pytest.raises(DecodeError, match="BalanceChanged is not bound to topic 'commands'"):
        codec.decode(Topic.COMMANDS, event)
    with pytest.raises(ValueError, match="not written to topic"):
        codec.encode(Topic.COMMANDS, MoneyTransferFailed(id=uuid.uuid4(), reason="x"))
    with pytest.raises(ValueError, match="AlertTriggered is not written to topic 'alerts'"):  # retired: read only
        codec.encode(Topic.ALERTS, AlertTriggered(uuid.uuid4(), "NL", uuid.uuid4(), "DEBIT_ABOVE", "m", "x/0"))


@pytest.mark.parametrize("value", [b"", b"not avro at all", b"\x00\x00\x01\x86\xa0garbage", None])
def test_bytes_that_are_not_our_avro_are_refused_with_a_reason(synced, value):
    with pytest.raises(DecodeError):
        get_codec().decode(Topic.COMMANDS, value)


def test_the_codec_writes_the_bytes_confluent_kafkas_serializer_writes_and_reads_what_it_reads(synced):
    """The codec writes Avro with fastavro directly: each example record, on each topic it is written to (a
    retired one on the topic that still holds it), byte for byte as confluent-kafka's AvroSerializer, and read
    back by both as the same record."""
    codec, registry = get_codec(), registry_client()
    compared = 0
    for topic in get_topology().topics:
        for record in topic.readable:
            write, read = (
                confluent_serializer(registry, record.schema_str),
                confluent_deserializer(registry, record.schema_str),
            )
            context = SerializationContext(topic.name, MessageField.VALUE)
            for message in (m for m in EXAMPLES if record.short_name == m.RECORD):
                theirs = write(message, context)
                if record in topic.records:
                    assert codec.encode(topic.name, message) == theirs, (topic.name, message)
                assert codec.decode(topic.name, theirs) == message
                assert avro_to_message(type(message), read(theirs, context)) == message
                compared += 1
    assert compared >= len(EXAMPLES)
