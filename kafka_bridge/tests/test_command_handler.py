"""The command handler on the real stack: feedback and events, replays, dead letters, crashes, rebalances."""

import contextlib
import dataclasses
import functools
import io
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from unittest import mock

import fastavro
import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException
from confluent_kafka.schema_registry import Schema
from django.db import OperationalError, connections

from accounts.iban import iban_for, is_open_iban
from accounts.models import LedgerAccount
from accounts.tests.factories import LedgerAccountFactory
from banking import positions
from kafka_bridge import clients
from kafka_bridge.consumers.command_handler import CommandHandler
from kafka_bridge.consumers.loop import ConsumerLoop
from kafka_bridge.wire.codecs import get_codec, message_to_avro
from kafka_bridge.wire.messages import (
    AccountCreationConfirmed,
    BalanceChanged,
    ConfirmAccountCreation,
    ConfirmMoneyTransfer,
    MoneyTransferConfirmed,
    MoneyTransferFailed,
)
from kafka_bridge.wire.topology import SCHEMAS_DIR
from kernel.rules import INVALID_TOKEN
from testing.kafka import (
    Collector,
    HandlerProcess,
    end_offsets,
    new_group_at_end,
    produce,
    produce_commands,
    produce_large,
)
from testing.live import PROJECT_ROOT, database_env
from transfers.models import ProcessedTransfer
from transfers.rules import MAX_BALANCE_CENTS

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases=["ledger"])]


@pytest.fixture(autouse=True)
def synced(stack, django_db_blocker):
    from django.core.management import call_command

    call_command("sync_topology", "--wait=30")


@pytest.fixture
def group():
    return new_group_at_end("commands")


@pytest.fixture
def collectors():
    """Collectors of feedback, events and dead letters, from the ends of their topics as the test starts."""
    opened = {
        topic: Collector(end_offsets(topic), decode=topic != "commands_dead_letter")
        for topic in ("money_transfer_feedback", "account_creation_feedback", "balance_changed", "commands_dead_letter")
    }
    yield opened
    for collector in opened.values():
        collector.close()


@pytest.fixture
def start_handler(group, tmp_path):
    started = []

    def start(instance="one", batch_size=500, *args, **env):
        log = tmp_path / f"handler-{instance}.log"
        process = HandlerProcess(group, f"{group}-{instance}", log, batch_size, *args, **env)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.process.poll() is None:
            process.stop()


def transfer_command(source, target, amount, token=None, description="test"):
    return ConfirmMoneyTransfer(
        id=uuid.uuid4(),
        token=token if token is not None else getattr(source, "token", ""),
        amount_cents=amount,
        from_account=getattr(source, "iban", source),
        to_account=getattr(target, "iban", target),
        description=description,
    )


def test_a_transfer_gives_the_debit_and_credit_events_and_then_its_feedback(start_handler, collectors):
    alice = LedgerAccountFactory(username="alice", balance_cents=10_000)
    bob = LedgerAccountFactory(username="bob")
    command = transfer_command(alice, bob, 1_111)
    start_handler()

    produce_commands([("alice", command)])

    feedback = collectors["money_transfer_feedback"].until(lambda r: len(r) == 1)
    assert feedback == [("alice", MoneyTransferConfirmed(id=command.id))]
    events = sorted(collectors["balance_changed"].until(lambda r: len(r) == 2), key=lambda e: e[0])
    assert events[0][1].changed_at == events[1][1].changed_at is not None  # the ledger's clock, once per batch
    assert [(key, dataclasses.replace(event, changed_at=None)) for key, event in events] == [
        (
            "alice",
            BalanceChanged(
                iban=alice.iban,
                new_balance_cents=8_889,
                changed_by_cents=-1_111,
                counterparty=bob.iban,
                description="test",
            ),
        ),
        (
            "bob",
            BalanceChanged(
                iban=bob.iban,
                new_balance_cents=1_111,
                changed_by_cents=1_111,
                counterparty=alice.iban,
                description="test",
            ),
        ),
    ]


def test_an_account_creation_repeated_gets_the_same_iban_and_token(start_handler, collectors):
    command = ConfirmAccountCreation(id=uuid.uuid4(), username="dave")
    start_handler()

    produce_commands([("dave", command), ("dave", command)])

    (key1, first), (key2, again) = collectors["account_creation_feedback"].until(lambda r: len(r) == 2)
    assert isinstance(first, AccountCreationConfirmed) and is_open_iban(first.iban)
    assert (key1, key2) == ("dave", "dave")
    assert again == first
    assert LedgerAccount.objects.filter(username="dave").count() == 1


def test_a_repeated_transfer_is_answered_again_but_moves_money_once(start_handler, collectors):
    alice = LedgerAccountFactory(username="alice", balance_cents=10_000)
    bob = LedgerAccountFactory(username="bob")
    command = transfer_command(alice, bob, 500)
    refused = transfer_command(alice, bob, 500, token="wrong")
    start_handler()

    produce_commands([("alice", command), ("alice", refused), ("alice", command), ("alice", refused)])

    feedback = collectors["money_transfer_feedback"].until(lambda r: len(r) == 4)
    assert [message for _, message in feedback] == [
        MoneyTransferConfirmed(id=command.id),
        MoneyTransferFailed(id=refused.id, reason=INVALID_TOKEN),
        MoneyTransferConfirmed(id=command.id),
        MoneyTransferFailed(id=refused.id, reason=INVALID_TOKEN),
    ]
    assert len(collectors["balance_changed"].settle(2)) == 2
    assert LedgerAccount.objects.get(pk=alice.pk).balance_cents == 9_500


def test_unreadable_records_are_dead_lettered_and_the_partition_moves_on(start_handler, collectors):
    bob = LedgerAccountFactory(username="bob")
    codec = get_codec()
    wrong_type = codec.encode(
        "balance_changed",
        BalanceChanged(iban=bob.iban, new_balance_cents=1, changed_by_cents=1, counterparty="cash", description=""),
    )
    deposit = transfer_command("cash", bob, 1_000)
    start_handler()

    produce(
        [
            ("commands", "bob", b"not avro at all"),
            ("commands", "bob", wrong_type),
            ("commands", "bob", None),
            ("commands", "bob", codec.encode("commands", deposit)),
        ]
    )

    assert collectors["money_transfer_feedback"].until(lambda r: len(r) == 1) == [
        ("bob", MoneyTransferConfirmed(id=deposit.id))
    ]
    letters = [record for _, record in collectors["commands_dead_letter"].until(lambda r: len(r) == 3)]
    assert [record.value() for record in letters] == [b"not avro at all", wrong_type, None]
    headers = dict(letters[1].headers())
    assert headers["original.topic"] == b"commands"
    assert int(headers["original.offset"]) >= 0 and headers["original.partition"].isdigit()
    assert b"BalanceChanged is not bound to topic 'commands'" in headers["error"]
    assert LedgerAccount.objects.get(pk=bob.pk).balance_cents == 1_000


# -- exactly once under crashes and rebalances ---------------------------------------------------------------


def make_stream(accounts, count, seed):
    """Transfers between the accounts, with deposits from and withdrawals to the outside world among them."""
    rng = random.Random(seed)
    commands = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.1:
            source, target = "cash", rng.choice(accounts)
        elif roll < 0.2:
            source, target = rng.choice(accounts), "cash"
        else:
            source, target = rng.sample(accounts, 2)
        commands.append((getattr(source, "username", "cash"), transfer_command(source, target, rng.randint(1, 20_000))))
    return commands


def assert_exactly_once(commands, accounts, balances_before, collectors):
    """Each command answered once; every balance equals its start plus its events; money only enters and
    leaves through cash."""
    ids = {command.id for _, command in commands}
    feedback = collectors["money_transfer_feedback"].until(lambda r: {m.id for _, m in r} >= ids, timeout=120)
    feedback = collectors["money_transfer_feedback"].settle(3)
    answers = Counter(message.id for _, message in feedback if message.id in ids)
    assert set(answers) == ids
    assert max(answers.values()) == 1, f"{sum(n > 1 for n in answers.values())} commands answered twice"

    by_id = {command.id: command for _, command in commands}
    confirmed = [by_id[m.id] for _, m in feedback if isinstance(m, MoneyTransferConfirmed) and m.id in ids]
    expected_events = sum((c.from_account != "cash") + (c.to_account != "cash") for c in confirmed)
    ibans = {account.iban for account in accounts}
    events = [
        m
        for _, m in collectors["balance_changed"].until(
            lambda r: sum(m.iban in ibans for _, m in r) >= expected_events, timeout=60
        )
    ]
    events = [m for _, m in collectors["balance_changed"].settle(2) if m.iban in ibans]
    assert len(events) == expected_events

    after = {a.iban: a.balance_cents for a in LedgerAccount.objects.filter(iban__in=ibans)}
    for iban in ibans:
        moved = sum(event.changed_by_cents for event in events if event.iban == iban)
        assert after[iban] == balances_before[iban] + moved, f"{iban} moved money twice or lost an event"
    deposits = sum(c.amount_cents for c in confirmed if c.from_account == "cash")
    withdrawals = sum(c.amount_cents for c in confirmed if c.to_account == "cash")
    assert sum(after.values()) == sum(balances_before.values()) + deposits - withdrawals
    assert ProcessedTransfer.objects.filter(command_id__in=ids).count() == len(ids)


@pytest.fixture
def accounts():
    return [LedgerAccountFactory(username=f"crash{n}", balance_cents=50_000) for n in range(8)]


def test_sigkill_in_the_middle_of_a_stream_neither_loses_nor_doubles_a_transfer(start_handler, collectors, accounts):
    before = {a.iban: a.balance_cents for a in accounts}
    commands = make_stream(accounts, 1_500, seed=7)
    handler = start_handler("crashy", batch_size=20)

    produce_commands(commands)
    collectors["money_transfer_feedback"].until(lambda r: len(r) >= 300, timeout=60)
    handler.kill()
    start_handler("crashy", batch_size=20)  # same instance: its open transaction is aborted at once

    assert_exactly_once(commands, accounts, before, collectors)


def test_two_handlers_share_the_partitions_and_a_rebalance_loses_nothing(start_handler, collectors, accounts):
    before = {a.iban: a.balance_cents for a in accounts}
    commands = make_stream(accounts, 900, seed=11)
    first = start_handler("first", batch_size=20)

    produce_commands(commands[:300])
    collectors["money_transfer_feedback"].until(lambda r: len(r) >= 100, timeout=60)
    second = start_handler("second", batch_size=20)
    produce_commands(commands[300:600])
    collectors["money_transfer_feedback"].until(lambda r: len(r) >= 450, timeout=60)
    assert first.stop() == 0  # SIGTERM: the batch in hand is finished and committed
    produce_commands(commands[600:])

    assert_exactly_once(commands, accounts, before, collectors)
    assert "assigned" in second.output()


class Delegating:
    """A transactional producer that does what the one it wraps does, except what a subclass changes."""

    def __init__(self, producer):
        self.producer = producer

    def __getattr__(self, name):
        return getattr(self.producer, name)


def handle_the_next_batch(group, producer):
    """Read the next batch of commands in `group` and run it through a handler with this producer."""
    consumer: Consumer = clients.consumer(group)
    consumer.subscribe(["commands"])
    producer.init_transactions(30)
    records = []
    while not records:
        records = [r for r in consumer.consume(10, 1.0) if not r.error()]
    ConsumerLoop(consumer, CommandHandler(get_codec(), group=group), producer=producer).process(records)
    consumer.close()


def test_a_kafka_commit_lost_after_the_ledger_committed_is_repaired_by_the_retry(group, collectors):
    """The window the SIGKILL test can only hope to hit: ledger committed, Kafka transaction not."""
    alice = LedgerAccountFactory(username="alice", balance_cents=10_000)
    bob = LedgerAccountFactory(username="bob")
    command = transfer_command(alice, bob, 2_500)
    produce_commands([("alice", command)])

    class CommitFailsOnce(Delegating):
        failed = False

        def commit_transaction(self, timeout):
            if not self.failed:
                self.failed = True
                raise KafkaException(KafkaError(KafkaError._TIMED_OUT, "simulated lost commit", retriable=True))
            return self.producer.commit_transaction(timeout)

    producer = CommitFailsOnce(clients.transactional_producer(f"{group}-flaky"))
    handle_the_next_batch(group, producer)

    assert producer.failed
    assert collectors["money_transfer_feedback"].settle(2) == [("alice", MoneyTransferConfirmed(id=command.id))]
    assert len(collectors["balance_changed"].settle(1)) == 2
    assert LedgerAccount.objects.get(pk=alice.pk).balance_cents == 7_500


def test_a_slow_batch_says_where_its_time_went(group, caplog):
    """One of many fresh stacks once took seconds per batch and left no trace of why."""
    alice = LedgerAccountFactory(username="alice", balance_cents=10_000)
    produce_commands([("alice", transfer_command(alice, LedgerAccountFactory(username="bob"), 100))])

    class SlowCommit(Delegating):
        def commit_transaction(self, timeout):
            time.sleep(1.2)
            return self.producer.commit_transaction(timeout)

    handle_the_next_batch(group, SlowCommit(clients.transactional_producer(f"{group}-slow")))

    [warning] = [r.getMessage() for r in caplog.records if "took" in r.getMessage()]
    assert warning.startswith("command handler: a batch of 1 took 1.")
    assert float(warning.rsplit("commit ", 1)[1]) >= 1.2


# -- hostile input and hard failures ---------------------------------------------------------------------------


def test_a_nul_in_a_description_is_refused_with_a_reason_and_the_next_command_is_handled(start_handler, collectors):
    """PostgreSQL refuses NUL in text: once, one such command stopped the handler for good."""
    bob = LedgerAccountFactory(username="bob")
    hostile = transfer_command("cash", bob, 1_000, description="rent\u0000")
    deposit = transfer_command("cash", bob, 2_000)
    handler = start_handler()

    produce_commands([("bob", hostile), ("bob", deposit)])

    assert [m for _, m in collectors["money_transfer_feedback"].until(lambda r: len(r) == 2)] == [
        MoneyTransferFailed(id=hostile.id, reason="description is invalid"),
        MoneyTransferConfirmed(id=deposit.id),
    ]
    assert LedgerAccount.objects.get(pk=bob.pk).balance_cents == 2_000
    assert handler.process.poll() is None


@pytest.fixture
def ledger_refuses():
    """Make the ledger's database refuse every change to one username's account with an error of a given
    SQLSTATE (22003, a value out of range, is what PostgreSQL says for a bigint overflow)."""
    made = []

    def refuse(username, sqlstate):
        with connections["ledger"].cursor() as cursor:
            cursor.execute(
                f"""CREATE FUNCTION refuse_{username}() RETURNS trigger AS $$ BEGIN
                       RAISE EXCEPTION 'refused' USING ERRCODE = '{sqlstate}'; END $$ LANGUAGE plpgsql;
                   CREATE TRIGGER refuse_{username} BEFORE UPDATE ON accounts_ledgeraccount
                       FOR EACH ROW WHEN (NEW.username = '{username}') EXECUTE FUNCTION refuse_{username}()"""
            )
        made.append(username)

    yield refuse
    with connections["ledger"].cursor() as cursor:
        for username in made:
            cursor.execute(
                f"DROP TRIGGER refuse_{username} ON accounts_ledgeraccount; DROP FUNCTION refuse_{username}()"
            )


def test_a_command_the_ledger_fails_on_is_dead_lettered_its_client_told_and_its_batch_goes_on(
    start_handler, collectors, ledger_refuses
):
    """An error that would come back on every retry (a value the database refuses) is poison, not transient."""
    ledger_refuses("rich", "22003")
    rich = LedgerAccountFactory(username="rich", balance_cents=1_000)
    bob = LedgerAccountFactory(username="bob")
    refused = transfer_command("cash", rich, 10_000)
    fine = [transfer_command("cash", bob, 100 + n) for n in range(5)]
    handler = start_handler()

    produce_commands([("bob", fine[0]), ("bob", fine[1]), ("rich", refused), *[("bob", c) for c in fine[2:]]])

    feedback = dict((m.id, m) for _, m in collectors["money_transfer_feedback"].until(lambda r: len(r) == 6))
    assert feedback[refused.id] == MoneyTransferFailed(id=refused.id, reason="the bank could not process this command")
    assert all(isinstance(feedback[c.id], MoneyTransferConfirmed) for c in fine)
    ((_, letter),) = collectors["commands_dead_letter"].until(lambda r: len(r) == 1)
    assert b"the ledger failed on this command" in dict(letter.headers())["error"]
    assert LedgerAccount.objects.get(pk=bob.pk).balance_cents == sum(c.amount_cents for c in fine)
    assert LedgerAccount.objects.get(pk=rich.pk).balance_cents == 1_000
    assert handler.process.poll() is None


def test_a_deposit_past_the_largest_balance_is_refused_with_a_reason_not_dead_lettered(start_handler, collectors):
    """Anonymous deposits could drive a balance to a bigint's end; from then on every deposit to it was poison."""
    rich = LedgerAccountFactory(username="rich", balance_cents=2**63 - 1_000)
    capped = LedgerAccountFactory(username="capped", balance_cents=MAX_BALANCE_CENTS - 100)
    past_a_bigint, past_the_cap, to_the_cap = (
        transfer_command("cash", rich, 10_000),
        transfer_command("cash", capped, 101),
        transfer_command("cash", capped, 100),
    )
    start_handler()

    produce_commands([("rich", past_a_bigint), ("capped", past_the_cap), ("capped", to_the_cap)])

    feedback = dict((m.id, m) for _, m in collectors["money_transfer_feedback"].until(lambda r: len(r) == 3))
    too_large = "the balance of to would be too large"
    assert feedback[past_a_bigint.id] == MoneyTransferFailed(id=past_a_bigint.id, reason=too_large)
    assert feedback[past_the_cap.id] == MoneyTransferFailed(id=past_the_cap.id, reason=too_large)
    assert feedback[to_the_cap.id] == MoneyTransferConfirmed(id=to_the_cap.id)
    assert collectors["commands_dead_letter"].settle(1) == []
    assert LedgerAccount.objects.get(pk=capped.pk).balance_cents == MAX_BALANCE_CENTS


def test_a_record_too_large_to_be_a_command_is_dead_lettered_without_its_value(start_handler, collectors):
    bob = LedgerAccountFactory(username="bob")
    huge = get_codec().encode("commands", transfer_command("cash", bob, 1, description="x" * 900_000))
    deposit = transfer_command("cash", bob, 500)
    handler = start_handler()

    produce([("commands", "bob", huge, [("trace", b"kept")])])
    produce_commands([("bob", deposit)])

    assert collectors["money_transfer_feedback"].until(lambda r: len(r) == 1) == [
        ("bob", MoneyTransferConfirmed(id=deposit.id))
    ]
    ((_, letter),) = collectors["commands_dead_letter"].until(lambda r: len(r) == 1)
    headers = dict(letter.headers())
    assert letter.value() is None and int(headers["original.size"]) == len(huge) and headers["trace"] == b"kept"
    assert handler.process.poll() is None


def test_a_command_id_sent_again_with_another_payload_is_refused(start_handler, collectors):
    bob = LedgerAccountFactory(username="bob")
    first = transfer_command("cash", bob, 500)
    forged = ConfirmMoneyTransfer(**{**first.__dict__, "amount_cents": 90_000})
    start_handler()

    produce_commands([("bob", first), ("bob", forged)])

    assert [m for _, m in collectors["money_transfer_feedback"].until(lambda r: len(r) == 2)] == [
        MoneyTransferConfirmed(id=first.id),
        MoneyTransferFailed(id=first.id, reason="uuid already used for another command"),
    ]
    assert LedgerAccount.objects.get(pk=bob.pk).balance_cents == 500


def test_a_handler_whose_database_stays_away_gives_up_at_its_deadline_for_the_supervisor(start_handler):
    handler = start_handler("lost", 500, "--retry-deadline=3", LEDGER_DATABASE_URL="postgres://postgres@127.0.0.1:9/x")
    produce_commands([("bob", transfer_command("cash", iban_for("0000000001"), 100))])

    assert handler.process.wait(60) != 0
    assert "giving up" in handler.output()


def test_a_handler_retrying_a_lost_database_stops_at_once_on_sigterm(start_handler):
    handler = start_handler("stuck", 500, LEDGER_DATABASE_URL="postgres://postgres@127.0.0.1:9/x")
    produce_commands([("bob", transfer_command("cash", iban_for("0000000001"), 100))])
    wait_for_text(handler, "retrying")

    started = time.monotonic()
    handler.process.send_signal(signal.SIGTERM)
    handler.process.wait(20)

    assert time.monotonic() - started < 15  # its stop timeout under the supervisor is 30 s
    assert "stopped while retrying" in handler.output()


def wait_for_text(handler, text, timeout=60):
    deadline = time.monotonic() + timeout
    while text not in handler.output():
        assert time.monotonic() < deadline and handler.process.poll() is None, handler.output()[-3000:]
        time.sleep(0.1)


def test_two_handlers_on_shared_accounts_publish_each_accounts_balances_in_ledger_order(start_handler, collectors):
    """Row locks end at the ledger commit, before the Kafka commit: without locks held until then, another
    handler could publish an account's later balance first, and a page would show a stale one."""
    accounts = [LedgerAccountFactory(username=f"shared{n}", balance_cents=1_000_000) for n in range(4)]
    rng = random.Random(5)
    commands = [
        (a.username, transfer_command(a, b, rng.randint(1, 500)))
        for a, b in (rng.sample(accounts, 2) for _ in range(1_200))
    ]
    start_handler("left", batch_size=7)
    start_handler("right", batch_size=11)

    produce_commands(commands)

    ibans = {a.iban for a in accounts}
    collectors["money_transfer_feedback"].until(lambda r: len(r) >= len(commands), timeout=120)
    events = [m for _, m in collectors["balance_changed"].settle(2) if m.iban in ibans]
    for account in accounts:
        balances = [account.balance_cents] + [e.new_balance_cents for e in events if e.iban == account.iban]
        changes = [e.changed_by_cents for e in events if e.iban == account.iban]
        steps = zip(balances[:-1], balances[1:], changes, strict=True)
        assert all(after == before + change for before, after, change in steps), f"{account.iban}: out of ledger order"
        assert balances[-1] == LedgerAccount.objects.get(pk=account.pk).balance_cents


def test_a_key_or_headers_of_a_megabyte_are_dead_lettered_in_a_small_copy_and_the_handler_goes_on(
    start_handler, collectors
):
    """Their full copies (and the feedback keyed like the command) were too large to produce: the handler exited,
    read the same batch again on its restart, and exited again, for ever."""
    bob = LedgerAccountFactory(username="bob")
    codec = get_codec()
    deposit = transfer_command("cash", bob, 500)
    handler = start_handler()

    produce_large(
        [
            ("commands", b"k" * 1_040_000, codec.encode("commands", transfer_command("cash", bob, 1)), None),
            ("commands", b"bob", b"not avro", [(f"h{n}", b"x" * 1_000) for n in range(1_000)]),
        ]
    )
    produce_commands([("bob", deposit)])

    assert collectors["money_transfer_feedback"].until(lambda r: len(r) == 1) == [
        ("bob", MoneyTransferConfirmed(id=deposit.id))
    ]
    letters = collectors["commands_dead_letter"].until(lambda r: len(r) == 2)
    many_headers, long_key = sorted((record for _, record in letters), key=lambda record: len(record.key()))
    assert len(long_key.key()) == 1024 and dict(long_key.headers())["original.key.size"] == b"1040000"
    assert b"longer than any username" in dict(long_key.headers())["error"]
    assert sum(len(v or b"") for _, v in many_headers.headers()) < 10_000
    assert dict(many_headers.headers())["original.headers"] == b"1000"
    assert LedgerAccount.objects.get(pk=bob.pk).balance_cents == 500
    assert handler.process.poll() is None


# Empty headers, two bytes each: the broker takes 500,000 (a megabyte), but librdkafka hands a consumer no
# headers at all beyond somewhere between 100,000 and 150,000 (measured), so 100,000 is the most a loop sees.
EMPTY_HEADERS_SEEN, EMPTY_HEADERS_THE_BROKER_TAKES = 100_000, 500_000


def test_records_of_as_many_empty_headers_as_can_be_are_dead_lettered_with_a_hundred(start_handler, collectors):
    """A copy's bound once counted only bytes, and an empty header has none: the copy kept all of them."""
    bob = LedgerAccountFactory(username="bob")
    deposit = transfer_command("cash", bob, 500)
    handler = start_handler()

    produce_large(
        [
            ("commands", b"bob", b"not avro", [("", None)] * EMPTY_HEADERS_SEEN),
            ("commands", b"bob", b"not avro", [("", None)] * EMPTY_HEADERS_THE_BROKER_TAKES),
        ]
    )
    produce_commands([("bob", deposit)])

    collectors["money_transfer_feedback"].until(lambda r: any(m.id == deposit.id for _, m in r))
    (_, seen), (_, unseen) = collectors["commands_dead_letter"].until(lambda r: len(r) == 2)
    assert len(seen.headers()) <= 100 + 10  # the first hundred, and where it came from and why
    assert dict(seen.headers())["original.headers"] == str(EMPTY_HEADERS_SEEN).encode()
    assert "original.headers" not in dict(unseen.headers())  # none reached the handler
    assert handler.process.poll() is None


def test_a_batch_that_failed_on_the_ledger_leaves_no_account_locked(group, ledger_refuses):
    """The ledger's connection went back to the pool after a database error still holding the batch's account
    locks (a session's advisory locks outlive a rollback): every other handler then waited on those accounts."""
    ledger_refuses("rich", "40001")  # a serialization failure: transient, retried until the deadline
    rich = LedgerAccountFactory(username="rich", balance_cents=1_000)
    produce_commands([("rich", transfer_command("cash", rich, 100))])
    consumer: Consumer = clients.consumer(group)
    consumer.subscribe(["commands"])
    producer = clients.transactional_producer(f"{group}-refused")
    producer.init_transactions(30)
    records = []
    while not records:
        records = [r for r in consumer.consume(10, 1.0) if not r.error()]

    with pytest.raises(OperationalError):
        loop = ConsumerLoop(consumer, CommandHandler(get_codec(), group=group), producer=producer, retry_deadline=1)
        loop.process(records)
    consumer.close()

    with connections["ledger"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
        assert cursor.fetchone()[0] == 0


def test_a_read_only_ledger_is_waited_for_and_nothing_is_dead_lettered(start_handler, collectors):
    """A read-only ledger (a replica promoted the wrong way, a full disk's safeguard) was poison: every command
    was dead-lettered while it lasted. It is the database's fault, not the command's."""
    bob = LedgerAccountFactory(username="bob")
    deposit = transfer_command("cash", bob, 100)
    ledger = connections["ledger"].settings_dict["NAME"]

    def read_only(on):  # for the sessions that start from now on: the handler's, started afresh
        with connections["ledger"].cursor() as cursor:
            setting = "SET default_transaction_read_only = on" if on else "RESET default_transaction_read_only"
            cursor.execute(f'ALTER DATABASE "{ledger}" {setting}')

    read_only(True)
    try:
        handler = start_handler()
        produce_commands([("bob", deposit)])
        wait_for_text(handler, "read-only transaction")
        assert collectors["commands_dead_letter"].settle(1) == []
    finally:
        read_only(False)
    handler.stop()  # while it retries
    start_handler()

    assert collectors["money_transfer_feedback"].until(lambda r: len(r) == 1) == [
        ("bob", MoneyTransferConfirmed(id=deposit.id))
    ]
    assert collectors["commands_dead_letter"].settle(1) == []
    assert LedgerAccount.objects.get(pk=bob.pk).balance_cents == 100


def delete_group(admin, group, timeout=90):
    """Delete the group's offsets, once a killed member's session has timed out (Kafka deletes only empty groups)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            admin.delete_consumer_groups([group])[group].result(30)
            return
        except KafkaException as error:
            if error.args[0].code() != KafkaError.NON_EMPTY_GROUP or time.monotonic() > deadline:
                raise
            time.sleep(1)


@contextlib.contextmanager
def run_in_this_process(group, ledger_away_for=0):
    """A handler's loop on a thread of this process, whose ledger is away for its first `ledger_away_for` tries to
    say where to start."""
    tries = []
    where_the_ledger_was = positions.resume_at

    def resume_at(*args):
        tries.append(1)
        if len(tries) <= ledger_away_for:
            raise OperationalError("the ledger is away")
        return where_the_ledger_was(*args)

    consumer = clients.consumer(group)
    producer = clients.transactional_producer(f"{group}-in-process")
    loop = ConsumerLoop(
        consumer, CommandHandler(get_codec(), group=group), producer=producer, topics=["commands"], batch_size=20
    )
    stop = threading.Event()
    with mock.patch.object(positions, "resume_at", resume_at):
        thread = threading.Thread(target=loop.run, args=(stop,))
        thread.start()
        try:
            yield tries
        finally:
            stop.set()
            thread.join(60)


@pytest.mark.parametrize("how", ["stopped", "killed", "restarted while its ledger is away"])
def test_a_handler_whose_group_lost_its_offsets_publishes_each_event_once(start_handler, collectors, group, admin, how):
    """Kafka forgets an idle group's offsets (7 days by default), and an operator can delete them: the handler
    then read `commands` from the start and published every earlier BalanceChanged again. Once the ledger kept
    its place, a handler killed even while idle still published its last batch again (its ledger could not tell
    whether the batch had reached Kafka), and one whose ledger was away at the restart read from the earliest."""
    bob = LedgerAccountFactory(username="bob")
    earlier = [transfer_command("cash", bob, 100) for _ in range(5)]
    handler = start_handler("forgetful")
    produce_commands([("bob", command) for command in earlier])
    collectors["money_transfer_feedback"].until(lambda r: len(r) == 5)
    if how == "killed":
        handler.kill()
    else:
        assert handler.stop() == 0

    delete_group(admin, group)
    with contextlib.ExitStack() as restarted:
        if how == "restarted while its ledger is away":
            tries = restarted.enter_context(run_in_this_process(group, ledger_away_for=2))
        else:
            start_handler("forgetful")
        later = transfer_command("cash", bob, 100)
        produce_commands([("bob", later)])

        collectors["money_transfer_feedback"].until(lambda r: any(m.id == later.id for _, m in r), timeout=120)
        events = [m for _, m in collectors["balance_changed"].settle(3) if m.iban == bob.iban]
    assert [e.new_balance_cents for e in events] == [100, 200, 300, 400, 500, 600]
    assert LedgerAccount.objects.get(pk=bob.pk).balance_cents == 600
    if how == "restarted while its ledger is away":
        assert len(tries) == 3


def test_a_batch_whose_kafka_commit_failed_goes_out_after_a_stop_and_a_lost_group(
    group, collectors, start_handler, admin
):
    """A clean stop once marked every partition the handler had held as published: a batch whose Kafka commit
    had failed after an earlier one of its partition went out was then never published (nor answered) once the
    group's offsets were lost."""
    bob = LedgerAccountFactory(username="bob")
    first, second = transfer_command("cash", bob, 100), transfer_command("cash", bob, 100)

    class SecondCommitFails(Delegating):
        commits = 0

        def commit_transaction(self, timeout):
            self.commits += 1
            if self.commits > 1:
                raise KafkaException(KafkaError(KafkaError._TIMED_OUT, "simulated lost commit", retriable=True))
            return self.producer.commit_transaction(timeout)

    consumer: Consumer = clients.consumer(group)
    producer = SecondCommitFails(clients.transactional_producer(f"{group}-doomed"))
    producer.init_transactions(30)
    loop = ConsumerLoop(consumer, CommandHandler(get_codec(), group=group), producer=producer, retry_deadline=1)
    consumer.subscribe(["commands"], on_assign=loop._assigned)  # as `run` does: the ledger knows every partition

    def the_next_batch():
        records = []
        while not records:
            records = [r for r in consumer.consume(10, 1.0) if not r.error()]
        return records

    produce_commands([("bob", first)])
    loop.process(the_next_batch())
    produce_commands([("bob", second)])  # the same key: the same partition
    with pytest.raises(KafkaException):
        loop.process(the_next_batch())
    loop.committer.close()
    consumer.close()
    assert LedgerAccount.objects.get(pk=bob.pk).balance_cents == 200  # the ledger committed; Kafka did not
    assert [m.id for _, m in collectors["money_transfer_feedback"].settle(2)] == [first.id]

    delete_group(admin, group)
    start_handler("after")

    feedback = collectors["money_transfer_feedback"].until(lambda r: any(m.id == second.id for _, m in r))
    assert [m for _, m in feedback] == [MoneyTransferConfirmed(id=first.id), MoneyTransferConfirmed(id=second.id)]
    assert [m.new_balance_cents for _, m in collectors["balance_changed"].settle(3) if m.iban == bob.iban] == [100, 200]
    assert LedgerAccount.objects.get(pk=bob.pk).balance_cents == 200


def test_a_schema_the_registry_no_longer_knows_is_waited_for_and_nothing_is_committed_meanwhile(
    start_handler, collectors, registry
):
    """A 404 from the registry after the ledger had committed crash-looped the handler. The records are now
    encoded before the ledger commits, and our own schema missing is waited for like a registry that is away."""
    bob = LedgerAccountFactory(username="bob")
    deposit = transfer_command("cash", bob, 700)
    subject = "money_transfer_feedback-nl.openweb.data.MoneyTransferConfirmed"
    registry.delete_subject(subject)
    try:
        handler = start_handler("waiting", 500, "--retry-deadline=600")
        produce_commands([("bob", deposit)])
        wait_for_text(handler, "run `manage.py sync_topology`")
        assert LedgerAccount.objects.get(pk=bob.pk).balance_cents == 0
    finally:
        from django.core.management import call_command

        call_command("sync_topology")

    assert collectors["money_transfer_feedback"].until(lambda r: len(r) == 1, timeout=120) == [
        ("bob", MoneyTransferConfirmed(id=deposit.id))
    ]
    assert len(collectors["money_transfer_feedback"].settle(2)) == 1
    assert LedgerAccount.objects.get(pk=bob.pk).balance_cents == 700
    assert handler.process.poll() is None


def test_a_command_from_a_producer_newer_than_the_bank_is_handled_not_refused(start_handler, collectors, registry):
    """A producer a version ahead adds an optional field the bank has never heard of: FULL_TRANSITIVE lets its
    schema in, and the handler reads the command with its own version and handles it."""
    bob = LedgerAccountFactory(username="bob")
    schema = json.loads((SCHEMAS_DIR / "ConfirmMoneyTransfer.avsc").read_text())
    schema["fields"].append({"name": "channel", "type": ["null", "string"], "default": None})
    newer = registry.register_schema(
        "commands-nl.openweb.data.ConfirmMoneyTransfer", Schema(json.dumps(schema), "AVRO")
    )
    command = transfer_command("cash", bob, 700)
    value = io.BytesIO()
    value.write(b"\0" + newer.to_bytes(4, "big"))  # the registry's framing: magic byte, schema id
    fastavro.schemaless_writer(value, fastavro.parse_schema(schema), message_to_avro(command) | {"channel": "app-9"})
    start_handler()

    produce([("commands", "bob", value.getvalue())])

    assert collectors["money_transfer_feedback"].until(lambda r: len(r) == 1) == [
        ("bob", MoneyTransferConfirmed(id=command.id))
    ]
    assert collectors["commands_dead_letter"].settle(1) == []
    assert LedgerAccount.objects.get(pk=bob.pk).balance_cents == 700


BEFORE_VERSION_2 = "d651e9e"  # the last commit whose records were all of version 1


def test_a_handler_of_the_previous_version_beside_new_producers_and_readers_dead_letters_nothing(
    group, collectors, tmp_path
):
    """Two versions side by side on one stack: a handler checked out from before version 2 reads the new web's
    commands (with a reference it has never heard of) and writes version-1 events, which the new codec reads
    (no `changed_at`: the read model takes the Kafka record's time); nothing is dead-lettered either way."""
    if subprocess.run(["git", "cat-file", "-e", BEFORE_VERSION_2], cwd=PROJECT_ROOT).returncode:
        pytest.skip(f"this checkout has no commit {BEFORE_VERSION_2} (a shallow clone)")
    previous = tmp_path / "previous"
    previous.mkdir()
    archive = subprocess.run(["git", "archive", BEFORE_VERSION_2], cwd=PROJECT_ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(previous)], input=archive.stdout, check=True)
    env = {**os.environ, **database_env()}
    run = functools.partial(subprocess.run, cwd=previous, env=env, capture_output=True, text=True, timeout=120)
    synced = run([sys.executable, "manage.py", "sync_topology", "--wait=30"])  # its version 1, as before the upgrade
    assert synced.returncode == 0, synced.stdout + synced.stderr
    bob = LedgerAccountFactory(username="bob")
    command = dataclasses.replace(transfer_command("cash", bob, 700), reference="INV-2026-0042")
    with open(tmp_path / "previous-handler.log", "wb") as log:  # the child keeps its own copy of the descriptor
        handler = subprocess.Popen(
            [sys.executable, "manage.py", "run_command_handler", f"--group={group}", f"--instance={group}-previous"],
            cwd=previous,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        produce_commands([("bob", command)])  # by the new web: version 2

        feedback = collectors["money_transfer_feedback"].until(lambda r: len(r) == 1, timeout=90)
        [(key, event)] = collectors["balance_changed"].until(lambda r: len(r) == 1)
    finally:
        handler.terminate()
        handler.wait(30)
    assert feedback == [("bob", MoneyTransferConfirmed(id=command.id))]
    assert (key, event.new_balance_cents, event.changed_at, event.reference) == ("bob", 700, None, None)
    assert collectors["commands_dead_letter"].settle(1) == []
    assert LedgerAccount.objects.get(pk=bob.pk).balance_cents == 700
