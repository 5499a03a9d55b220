"""The projector and rebuild_projections on the real stack: rows once, answers to customers, live notices."""

import asyncio
import threading
import uuid

import pytest
from channels.layers import get_channel_layer
from confluent_kafka.serialization import MessageField, SerializationContext
from django.core.management import call_command
from django.db import connections

from accounts.commands import AccountAnswer
from accounts.models import Customer
from alerts.models import Alert
from alerts.rules import EventOfCommand, FiredAlert, PlaceInLog
from banking.answers import COMMAND_ANSWERS, answer_from_data
from kafka_bridge import clients
from kafka_bridge.consumers.loop import ConsumerLoop
from kafka_bridge.consumers.projector import TOPICS, Projector, warn_of_undated_transactions
from kafka_bridge.tools.offsets import end_offsets, new_group_at_end
from kafka_bridge.translate import alert_triggered
from kafka_bridge.wire.codecs import get_codec, registry_client
from kafka_bridge.wire.headers import event_headers
from kafka_bridge.wire.messages import (
    AccountCreationConfirmed,
    AccountCreationFailed,
    AlertTriggered,
    BalanceChanged,
    MoneyTransferFailed,
)
from kafka_bridge.wire.topology import get_topology
from testing.confluent import confluent_serializer
from testing.kafka import Collector, produce, produce_large
from transfers.commands import TransferAnswer
from transfers.models import Transaction
from transfers.notices import TransactionNotice, transactions_group

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def synced(stack):
    call_command("sync_topology", "--wait=30")


@pytest.fixture
def running_projector():
    """A projector in a thread, in a consumer group that starts at the current ends of its topics."""
    group = new_group_at_end(TOPICS[0], prefix="test-projector")
    for topic in TOPICS[1:]:
        consumer = clients.consumer(group)
        from kafka_bridge.tools.offsets import end_offsets

        consumer.commit(offsets=end_offsets(topic), asynchronous=False)
        consumer.close()
    stop = threading.Event()

    def run():
        try:
            consumer = clients.consumer(group)
            ConsumerLoop(consumer, Projector(get_codec()), producer=clients.producer(), topics=TOPICS).run(stop)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    yield
    stop.set()
    thread.join(30)


def listen(*groups):
    """Join `groups`; return `receive(until=...)`, which waits for a message `until` accepts (30 s at most).

    Everything runs on one event loop of its own, in a thread: the channel layer keeps a process's channels
    and groups per event loop.
    """
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    layer = get_channel_layer()

    def on_loop(coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(60)

    channel = on_loop(layer.new_channel())
    for group in groups:
        on_loop(layer.group_add(group, channel))

    def receive(until=lambda message: True):
        async def wait():
            while not until(message := await asyncio.wait_for(layer.receive(channel), 30)):
                pass
            return message

        return on_loop(wait())

    return receive


def answers_to(receive, *command_ids):
    """The answers heard until there is one for each command (a batch tells all its answers at once)."""
    answers, wanted = {}, {command_id.hex for command_id in command_ids}
    receive(until=lambda message: answers.update(message["answers"]) or wanted <= answers.keys())
    return {key: answer_from_data(payload) for key, payload in answers.items()}


def wait_for(condition, timeout=30):
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def balance_changed(iban, change, description="deposit"):
    return BalanceChanged(
        iban=iban,
        new_balance_cents=10_000 + change,
        changed_by_cents=change,
        counterparty="cash",
        description=description,
    )


def test_events_become_transactions_once_and_reach_listeners_of_their_iban(running_projector):
    iban = f"NL{uuid.uuid4().hex[:6]}"
    receive = listen(transactions_group(iban))
    codec = get_codec()
    value = codec.encode("balance_changed", balance_changed(iban, -1234, "rent"))

    produce([("balance_changed", "alice", value), ("balance_changed", "alice", value)])  # a duplicate event

    notice = TransactionNotice.from_message(receive()["transaction"])
    assert (notice.iban, notice.changed_by_cents, notice.direction, notice.description, notice.counterparty) == (
        iban,
        -1234,
        "DEBIT",
        "rent",
        "cash",
    )
    wait_for(lambda: Transaction.objects.filter(iban=iban).count() == 2)
    assert Transaction.objects.get(pk=notice.id).changed_by_cents == -1234


def test_an_opened_account_is_projected_and_a_failed_one_is_not(running_projector):
    confirmed_id, failed_id = uuid.uuid4(), uuid.uuid4()
    receive = listen(COMMAND_ANSWERS)
    codec = get_codec()

    produce(
        [
            (
                "account_creation_feedback",
                "confirmed-user",
                codec.encode(
                    "account_creation_feedback",
                    AccountCreationConfirmed(id=confirmed_id, iban="NL66OPEN0000000000", token="1" * 20),
                ),
            ),
            (
                "account_creation_feedback",
                "failed-user",
                codec.encode(
                    "account_creation_feedback",
                    AccountCreationFailed(id=failed_id, reason="generated iban already exists, try again"),
                ),
            ),
        ]
    )

    assert answers_to(receive, confirmed_id, failed_id) == {
        confirmed_id.hex: AccountAnswer(iban="NL66OPEN0000000000", token="1" * 20),
        failed_id.hex: AccountAnswer(reason="generated iban already exists, try again"),
    }
    assert Customer.objects.get(command_id=confirmed_id).iban == "NL66OPEN0000000000"
    assert not Customer.objects.filter(command_id=failed_id).exists()


def test_a_transfer_answer_reaches_every_web_process(running_projector):
    command_id = uuid.uuid4()
    receive = listen(COMMAND_ANSWERS)

    produce(
        [
            (
                "money_transfer_feedback",
                "bob",
                get_codec().encode(
                    "money_transfer_feedback", MoneyTransferFailed(id=command_id, reason="insufficient funds")
                ),
            )
        ]
    )

    assert answers_to(receive, command_id) == {command_id.hex: TransferAnswer(False, "insufficient funds")}


def snapshot():
    return sorted(
        Transaction.objects.values_list(
            "iban",
            "new_balance_cents",
            "changed_by_cents",
            "counterparty",
            "description",
            "source_partition",
            "source_offset",
            "changed_at",  # what the past is asked by: a rebuild must give the same answers
            "reference",
        )
    )


def test_rebuild_projections_gives_back_the_same_read_model_and_dead_letters_nothing_again(running_projector, capsys):
    """A rebuild once copied every poison record in the topics' history to the dead-letter topic again."""
    call_command("rebuild_projections")
    iban = f"NL{uuid.uuid4().hex[:6]}"
    codec = get_codec()
    letters = Collector(end_offsets("projector_dead_letter"), decode=False)
    poison = f"not avro {uuid.uuid4()}".encode()
    produce(
        [
            *[
                ("balance_changed", "carol", codec.encode("balance_changed", balance_changed(iban, n)))
                for n in (100, 200, 300)
            ],
            ("balance_changed", "carol", poison),
        ]
    )
    wait_for(lambda: Transaction.objects.filter(iban=iban).count() == 3)
    letters.until(lambda records: any(record.value() == poison for _, record in records))
    before = snapshot()

    call_command("rebuild_projections")

    assert snapshot() == before
    assert "rebuilt in" in capsys.readouterr().out
    copies = [record for _, record in letters.settle() if record.value() == poison]
    letters.close()
    assert len(copies) == 1


def test_an_event_published_again_at_another_offset_is_still_one_transaction(running_projector):
    """A handler that republishes stored events (an offset reset, a lost group) must not double the read model."""
    iban = f"NL{uuid.uuid4().hex[:6]}"
    command_id = uuid.uuid4()
    value = get_codec().encode("balance_changed", balance_changed(iban, 500))
    marker = get_codec().encode("balance_changed", balance_changed(iban, 1))

    produce(
        [
            ("balance_changed", "dave", value, event_headers(command_id, 0)),
            ("balance_changed", "dave", value, event_headers(command_id, 0)),  # the same event, published again
            ("balance_changed", "dave", marker, event_headers(uuid.uuid4(), 0)),
        ]
    )

    wait_for(lambda: Transaction.objects.filter(iban=iban, changed_by_cents=1).exists())
    assert Transaction.objects.filter(iban=iban).count() == 2


@pytest.mark.parametrize(
    "poison",
    [
        pytest.param(b"not avro at all", id="undecodable"),
        pytest.param(dict(counterparty="N" * 300), id="counterparty-longer-than-the-column"),
        pytest.param(dict(description="rent\u0000"), id="nul-in-description"),
    ],
)
def test_a_record_the_read_model_refuses_is_dead_lettered_and_the_projector_goes_on(running_projector, poison):
    iban = f"NL{uuid.uuid4().hex[:6]}"
    codec = get_codec()
    if isinstance(poison, dict):
        poison = codec.encode("balance_changed", BalanceChanged(**{**balance_changed(iban, 7).__dict__, **poison}))
    letters = Collector(end_offsets("projector_dead_letter"), decode=False)
    after = codec.encode("balance_changed", balance_changed(iban, 300))

    produce([("balance_changed", "erin", poison), ("balance_changed", "erin", after)])

    wait_for(lambda: Transaction.objects.filter(iban=iban, changed_by_cents=300).exists())
    ((_, letter),) = letters.until(lambda records: len(records) == 1)
    letters.close()
    headers = dict(letter.headers())
    assert letter.value() == poison and headers["original.topic"] == b"balance_changed"
    assert headers["error"] and int(headers["original.offset"]) >= 0


def test_a_record_of_as_many_empty_headers_as_a_consumer_sees_is_dead_lettered_with_a_hundred(running_projector):
    """A copy's bound once counted only bytes, and an empty header has none: the copy kept all of them."""
    letters = Collector(end_offsets("projector_dead_letter"), decode=False)
    iban = f"NL{uuid.uuid4().hex[:6]}"

    produce_large([("balance_changed", b"alice", b"not avro", [("", None)] * 100_000)])  # see test_command_handler
    produce([("balance_changed", "alice", get_codec().encode("balance_changed", balance_changed(iban, 5)))])

    wait_for(lambda: Transaction.objects.filter(iban=iban).exists())
    ((_, letter),) = letters.until(lambda r: len(r) == 1)
    letters.close()
    assert len(letter.headers()) <= 100 + 10 and dict(letter.headers())["original.headers"] == b"100000"


def test_a_record_of_a_megabyte_it_cannot_read_is_dead_lettered_in_a_small_copy_and_the_projector_goes_on(
    running_projector,
):
    """Its full copy was too large to produce: the projector exited, and read the same batch again, for ever."""
    letters = Collector(end_offsets("projector_dead_letter"), decode=False)
    iban = f"NL{uuid.uuid4().hex[:6]}"

    produce_large([("balance_changed", b"k" * 1_040_000, b"not avro", [("trace", b"kept")])])
    produce([("balance_changed", "alice", get_codec().encode("balance_changed", balance_changed(iban, 5)))])

    wait_for(lambda: Transaction.objects.filter(iban=iban).exists())
    ((_, letter),) = letters.until(lambda r: len(r) == 1)
    letters.close()
    headers = dict(letter.headers())
    assert len(letter.key()) == 1024 and headers["original.key.size"] == b"1040000" and headers["trace"] == b"kept"
    assert letter.value() == b"not avro"


def test_a_rebuild_over_alerts_of_both_versions_gives_the_same_read_model(running_projector):
    """Version 2 of AlertTriggered is a breaking change made beside version 1: the `alerts` topic holds both,
    and both are read into one shape, stored alike and rebuilt alike."""
    iban = f"NL{uuid.uuid4().hex[:6]}"
    fired = [
        FiredAlert(uuid.uuid4(), iban, uuid.uuid4(), "CREDIT_ABOVE", f"alert {n}", trigger)
        for n, trigger in enumerate(
            [EventOfCommand(uuid.uuid4(), 1), PlaceInLog("balance_changed", 7, 2**40)] * 2  # each kind in each version
        )
    ]
    old_schema = next(r for r in get_topology().topic("alerts").retired if r.short_name == "AlertTriggered")
    version_1 = confluent_serializer(registry_client(), old_schema.schema_str)
    context = SerializationContext("alerts", MessageField.VALUE)

    produce(
        [("alerts", iban, version_1(AlertTriggered(*astuple_v1(alert)), context)) for alert in fired[:2]]
        + [("alerts", iban, get_codec().encode("alerts", alert_triggered(alert))) for alert in fired[2:]]
    )
    wait_for(lambda: Alert.objects.filter(iban=iban).count() == 4)
    projected = alert_rows(iban)
    Alert.objects.filter(iban=iban).update(message="tampered")  # the rebuild must read them again

    call_command("rebuild_projections")

    assert alert_rows(iban) == projected  # dated as they fired, not when they were read again
    assert [row[:6] for row in projected] == sorted(
        (a.id, iban, a.rule_id, "CREDIT_ABOVE", a.message, str(a.trigger)) for a in fired
    )


def astuple_v1(alert: FiredAlert) -> tuple:
    """An alert's fields as version 1 wrote them: the trigger as text."""
    return (alert.id, alert.iban, alert.rule_id, alert.kind, alert.message, str(alert.trigger))


def alert_rows(iban):
    rows = Alert.objects.filter(iban=iban)
    return sorted(rows.values_list("id", "iban", "rule_id", "kind", "message", "trigger", "created_at"))


def test_a_rebuild_reads_alerts_again_and_mails_none_of_them(running_projector, monkeypatch):
    """History fires nothing again: the rebuild once kept the alert rows it found, and one it made again was mailed."""
    iban = f"NL{uuid.uuid4().hex[:6]}"
    alert = FiredAlert(uuid.uuid4(), iban, uuid.uuid4(), "DEBIT_ABOVE", "history", EventOfCommand(uuid.uuid4(), 0))
    mailed = []
    monkeypatch.setattr("kafka_bridge.consumers.projector.mail_later", lambda alerts: mailed.extend(alerts))
    produce([("alerts", iban, get_codec().encode("alerts", alert_triggered(alert)))])
    wait_for(lambda: Alert.objects.filter(iban=iban).exists())
    assert [row.id for row in mailed] == [alert.id]  # the live projector mails a new alert
    Alert.objects.filter(iban=iban).delete()

    call_command("rebuild_projections")

    assert Alert.objects.filter(iban=iban).count() == 1  # read again...
    assert [row.id for row in mailed] == [alert.id]  # ...and mailed to nobody


def test_a_second_rebuild_while_one_runs_is_refused_and_changes_nothing():
    """Two at once built one copy: each dropped what the other wrote, and one switched it half made."""
    from django.core.management.base import CommandError

    from banking.copies import the_only_rebuild

    with the_only_rebuild(), pytest.raises(CommandError, match="another rebuild_projections is running"):
        call_command("rebuild_projections")


def test_a_projector_starting_on_rows_without_their_time_says_what_to_do(caplog):
    """Rows projected before changed_at was kept are missing from every answer about the past, silently."""
    from kernel.balances import BalanceChange
    from transfers.projections import BalanceChangedEvent, record_balance_changes

    record_balance_changes([BalanceChangedEvent(BalanceChange("", "NL1", 1, 1, "cash", "old"), 0, 1)])

    warn_of_undated_transactions()

    assert "1 transactions have no changed_at" in caplog.text and "rebuild_projections" in caplog.text
