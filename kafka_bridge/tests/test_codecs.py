"""The codec without a registry: field names, ids and Avro bytes against the real schemas."""

import io
import json
import uuid

import fastavro
import pytest

from kafka_bridge.wire.codecs import avro_to_message, decode_key, encode_key, message_to_avro
from kafka_bridge.wire.messages import (
    MESSAGE_TYPES,
    AccountCreationConfirmed,
    AccountCreationFailed,
    AlertRule,
    AlertRuleChangeConfirmed,
    AlertRuleChangeFailed,
    AlertsSettingsUpdated,
    AlertTriggered,
    BalanceChanged,
    ConfirmAccountCreation,
    ConfirmAlertRuleChange,
    ConfirmMoneyTransfer,
    MoneyTransferConfirmed,
    MoneyTransferFailed,
)
from kafka_bridge.wire.topology import SCHEMAS_DIR

ID = uuid.UUID("4bac2a10-7022-4923-8471-74706f484dd2")
EXAMPLES = [
    ConfirmAccountCreation(id=ID, username="alice"),
    AccountCreationConfirmed(id=ID, iban="NL66OPEN0000000000", token="0" * 20),
    AccountCreationFailed(id=ID, reason="generated iban already exists, try again"),
    ConfirmMoneyTransfer(
        id=ID,
        token="1" * 20,
        amount_cents=1111,
        from_account="cash",
        to_account="NL66OPEN0000000000",
        description="deposit",
    ),
    MoneyTransferConfirmed(id=ID),
    MoneyTransferFailed(id=ID, reason="insufficient funds"),
    BalanceChanged(
        iban="NL66OPEN0000000000",
        new_balance_cents=-500,
        changed_by_cents=-1000,
        counterparty="cash",
        description="withdrawal",
    ),
    ConfirmAlertRuleChange(
        id=ID, iban="NL66OPEN0000000000", token="0" * 20, action="ADD", rule_id=ID, kind="DEBIT_ABOVE", threshold=1000
    ),
    ConfirmAlertRuleChange(id=ID, iban="NL66OPEN0000000000", token="0" * 20, action="REMOVE", rule_id=ID),
    AlertRuleChangeConfirmed(id=ID),
    AlertRuleChangeFailed(id=ID, reason="invalid token"),
    AlertsSettingsUpdated(
        iban="NL66OPEN0000000000",
        rules=(
            AlertRule(id=ID, kind="BALANCE_BELOW", threshold=-500),
            AlertRule(id=ID, kind="DESCRIPTION_MATCHES", text="rent"),
        ),
    ),
    AlertsSettingsUpdated(iban="NL66OPEN0000000000", rules=()),
    AlertTriggered(id=ID, iban="NL66OPEN0000000000", rule_id=ID, kind="DEBIT_ABOVE", message="Debit", trigger="x/0"),
]


def test_every_record_of_the_contract_has_a_message_type():
    assert set(MESSAGE_TYPES) == {path.stem for path in SCHEMAS_DIR.glob("*.avsc")}
    assert {m.RECORD for m in EXAMPLES} == set(MESSAGE_TYPES)


def test_a_transfer_uses_the_original_avro_field_names():
    record = message_to_avro(EXAMPLES[3])

    assert list(record) == ["id", "token", "amount", "from", "to", "description"]
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
