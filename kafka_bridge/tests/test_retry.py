import pytest
from confluent_kafka import KafkaError, KafkaException

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
