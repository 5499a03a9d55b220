"""The codec without a registry: field names, ids and Avro bytes against the real schemas."""

import dataclasses
import io
import json

import fastavro
import pytest

from kafka_bridge.wire.codecs import avro_to_message, decode_key, encode_key, message_to_avro
from kafka_bridge.wire.messages import (
    MESSAGE_TYPES,
    ConfirmAccountCreation,
)
from kafka_bridge.wire.topology import SCHEMAS_DIR
from testing.records import EXAMPLES, ID


def test_every_record_of_the_contract_has_a_message_type():
    assert set(MESSAGE_TYPES) == {path.stem for path in SCHEMAS_DIR.glob("*.avsc")}
    assert {m.RECORD for m in EXAMPLES} == set(MESSAGE_TYPES)


def test_a_transfer_uses_the_original_avro_field_names():
    record = message_to_avro(EXAMPLES[3])

    assert list(record) == ["id", "token", "amount", "from", "to", "description", "reference"]  # ours last
    assert record["amount"] == 1111
    assert record["from"] == "cash"


def test_a_uuid_travels_as_its_16_big_endian_bytes():
    assert message_to_avro(ConfirmAccountCreation(id=ID, username="bob"))["id"] == ID.bytes
    assert ID.bytes.hex() == "4bac2a1070224923847174706f484dd2"


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda m: m.RECORD)
def test_each_message_survives_avro_bytes_of_its_real_schema(message):
    schema = fastavro.parse_schema(json.loads((SCHEMAS_DIR / f"{message.RECORD}.avsc").read_text()))
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, schema, message_to_avro(message))
    buffer.seek(0)

    assert avro_to_message(type(message), fastavro.schemaless_reader(buffer, schema)) == message


def test_keys_are_usernames_in_utf8():
    assert encode_key("zoë") == "zoë".encode()
    assert decode_key(encode_key("zoë")) == "zoë"
    assert decode_key(None) is None


def version_1(record: str):
    """A record's schema as the original wrote it: without the fields a later version added."""
    schema = json.loads((SCHEMAS_DIR / f"{record}.avsc").read_text())
    schema["fields"] = [field for field in schema["fields"] if "version 2" not in field.get("doc", "")]
    return fastavro.parse_schema(schema)


def avro_bytes(schema, record: dict) -> io.BytesIO:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, schema, record)
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize("record", ["BalanceChanged", "ConfirmMoneyTransfer"])
def test_records_of_version_1_and_2_read_each_other_both_ways(record):
    """Old processes and new ones side by side: a new reader takes an old record (the new fields are None), and
    an old reader takes a new record (it skips them)."""
    [new] = [m for m in EXAMPLES if record == m.RECORD and getattr(m, "reference", None)]
    old_schema, new_schema = (
        version_1(record),
        fastavro.parse_schema(json.loads((SCHEMAS_DIR / f"{record}.avsc").read_text())),
    )
    as_old = {name: value for name, value in message_to_avro(new).items() if name not in ("changed_at", "reference")}

    read_by_new = fastavro.schemaless_reader(avro_bytes(old_schema, as_old), old_schema, new_schema)
    read_by_old = fastavro.schemaless_reader(avro_bytes(new_schema, message_to_avro(new)), new_schema, old_schema)

    assert avro_to_message(type(new), read_by_new) == dataclasses.replace(
        new, reference=None, **({"changed_at": None} if record == "BalanceChanged" else {})
    )
    assert read_by_old == as_old
