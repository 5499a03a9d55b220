import psycopg
import pytest
from confluent_kafka import KafkaError, KafkaException
from django.db import DatabaseError

from kafka_bridge.retry import is_transient, with_retries


@pytest.mark.parametrize(
    "code",
    [
        KafkaError.FENCED_LEADER_EPOCH,  # a list_offsets answered by a broker that just lost leadership
        KafkaError.UNKNOWN_LEADER_EPOCH,
        KafkaError.UNKNOWN_TOPIC_OR_PART,  # sync_topology's check right after creating topics on three brokers
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError._TRANSPORT,
    ],
)
def test_a_leader_moving_is_waited_out(code):
    assert is_transient(KafkaException(KafkaError(code)))


@pytest.mark.parametrize("code", [KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.INVALID_RECORD])
def test_a_refusal_is_not_retried(code):
    assert not is_transient(KafkaException(KafkaError(code)))


def test_a_fatal_error_is_not_retried():
    assert not is_transient(KafkaException(KafkaError(KafkaError.PRODUCER_FENCED, fatal=True)))


def test_a_result_not_good_yet_is_logged_as_waiting_not_as_a_failure(caplog):
    caplog.set_level("INFO")
    results = iter([False, False, True])

    assert with_retries(lambda: next(results), "planning", deadline=5, until=bool) is True

    assert "failed" not in caplog.text and "None" not in caplog.text
    assert "planning: not done yet (attempt 1" in caplog.text


@pytest.mark.parametrize(
    ("psycopg_error", "transient"),
    [
        (psycopg.errors.ReadOnlySqlTransaction, True),  # the ledger is read-only
        (psycopg.errors.UndefinedColumn, True),  # a migration not applied
        (psycopg.errors.UndefinedTable, True),
        (psycopg.errors.InsufficientPrivilege, True),  # a grant missing
        (psycopg.errors.DiskFull, True),
        (psycopg.errors.NumericValueOutOfRange, False),  # the record's own value
        (psycopg.errors.UniqueViolation, False),
        (psycopg.errors.RaiseException, False),
    ],
)
def test_a_database_at_fault_is_waited_for_and_a_value_it_refuses_is_poison(psycopg_error, transient):
    """Every database error but a lost connection was poison: a read-only ledger dead-lettered every command."""
    wrapped = DatabaseError()  # as Django raises it, from psycopg's
    wrapped.__cause__ = psycopg_error()

    assert is_transient(wrapped) is transient
