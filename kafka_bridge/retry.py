"""Transient or poison: every failure of a loop is one of the two, and only the transient kind is retried.

Transient: a dependency is away or busy (a lost database connection, a deadlock, the broker or the
registry unreachable), or at fault (a read-only ledger, a table the code expects missing). Retrying helps,
so it is retried with backoff, until a deadline well below the consumer's `max.poll.interval.ms` or until
the process is asked to stop. Poison: the data itself is refused (a decode error, `DataError`,
`IntegrityError`, a value the domain rejects). It would fail the same way again, so the loop isolates the
record and dead-letters it instead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import httpx2
import tenacity
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.schema_registry import SchemaRegistryError
from django.db import DatabaseError, InterfaceError, OperationalError

T = TypeVar("T")
logger = logging.getLogger(__name__)

# Seen while a broker starts or moves leadership; librdkafka does not always flag them retriable.
TRANSIENT_KAFKA_ERRORS = {
    KafkaError.NOT_LEADER_FOR_PARTITION,
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.FENCED_LEADER_EPOCH,
    KafkaError.UNKNOWN_LEADER_EPOCH,
    KafkaError.UNKNOWN_TOPIC_OR_PART,  # a topic just created, not yet known to the broker that was asked
    KafkaError.NOT_COORDINATOR,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    KafkaError.NOT_ENOUGH_REPLICAS,
    KafkaError.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
    KafkaError.REQUEST_TIMED_OUT,
    KafkaError._TIMED_OUT,
    KafkaError._TRANSPORT,
    KafkaError._ALL_BROKERS_DOWN,
}
# The group went on without this consumer (it was too slow, or the coordinator lost it): committing the batch
# again can never succeed; the consumer must poll to rejoin, and the batch be read again.
LEFT_THE_GROUP = {
    KafkaError.UNKNOWN_MEMBER_ID,
    KafkaError.ILLEGAL_GENERATION,
    KafkaError.REBALANCE_IN_PROGRESS,
    KafkaError.FENCED_INSTANCE_ID,
}
# SQLSTATE classes that blame the database, not the record: a read-only transaction (25), a table, column or
# right the code expects missing (42: a schema not migrated), no resources left (53), an operator's
# intervention (57), a system error (58). Every command would fail alike: none is poison.
DATABASE_AT_FAULT = {"25", "42", "53", "57", "58"}
DEFAULT_DEADLINE = 60.0  # seconds; max.poll.interval.ms is 300 s, so a consumer never drops out of its group


class Unavailable(Exception):
    """A dependency did not answer (the schema registry, say): transient, whatever the underlying error."""


def is_transient(error: BaseException) -> bool:
    """True for failures worth retrying: a dependency that is away, busy or restarting."""
    if isinstance(error, Unavailable | OperationalError | InterfaceError | TimeoutError | ConnectionError):
        return True  # OperationalError covers lost connections, deadlocks and serialization failures
    if isinstance(error, DatabaseError):
        return (getattr(error.__cause__, "sqlstate", None) or "")[:2] in DATABASE_AT_FAULT
    if isinstance(error, KafkaException):
        kafka_error = error.args[0] if error.args else None
        if not isinstance(kafka_error, KafkaError) or kafka_error.fatal() or left_the_group(error):
            return False
        return (
            kafka_error.retriable() or kafka_error.txn_requires_abort() or kafka_error.code() in TRANSIENT_KAFKA_ERRORS
        )
    if isinstance(error, SchemaRegistryError):
        return registry_error_is_transient(error)
    return isinstance(error, httpx2.TransportError)


def left_the_group(error: BaseException) -> bool:
    """True when a consumer's group moved on without it, so its batch's offsets cannot be committed."""
    kafka_error = error.args[0] if isinstance(error, KafkaException) and error.args else None
    return isinstance(kafka_error, KafkaError) and kafka_error.code() in LEFT_THE_GROUP


def registry_error_is_transient(error: SchemaRegistryError) -> bool:
    """Only "not found" is an answer about the data; anything else (5xx, no connection, 401) is the registry's."""
    return error.http_status_code != 404


def retrying(
    what: str,
    *,
    stop: threading.Event | None = None,
    deadline: float = DEFAULT_DEADLINE,
    until: Callable[[Any], bool] | None = None,
) -> tenacity.Retrying:
    """Retry transient failures of `what` with backoff until `deadline` seconds have passed or `stop` is set.

    The last failure is raised when retrying ends, so the caller's `finally` cleans up and the process
    exits for its supervisor to restart it. Backoff sleeps wake at once when `stop` is set. With `until`,
    a result it refuses is tried again too, and the last result is returned when time is up.
    """
    stop = stop or threading.Event()
    retry: tenacity.retry_base = tenacity.retry_if_exception(is_transient)
    if until is not None:
        retry = retry | tenacity.retry_if_result(lambda result: not until(result))
    return tenacity.Retrying(
        retry=retry,
        stop=tenacity.stop_after_delay(deadline) | tenacity.stop_when_event_set(stop),
        wait=tenacity.wait_exponential(multiplier=0.1, max=5),
        sleep=lambda seconds: None if stop.wait(seconds) else None,
        before_sleep=lambda state: _log_retry(what, state),
        reraise=True,
        retry_error_callback=None if until is None else _last_result,
    )


def _last_result(state: tenacity.RetryCallState) -> Any:
    return state.outcome.result() if state.outcome else None


def with_retries(
    operation: Callable[[], T],
    what: str = "a request",
    deadline: float = 30.0,
    until: Callable[[T], bool] | None = None,
) -> T:
    """Run `operation`, retrying transient errors (and, with `until`, results it refuses) for up to `deadline` s."""
    return retrying(what, deadline=deadline, until=until)(operation)


def _log_retry(what: str, state: tenacity.RetryCallState) -> None:
    """A failure is a warning; a result `until` refused (a topic not visible yet, say) is only waited for."""
    error = state.outcome.exception() if state.outcome else None
    so_far = f"attempt {state.attempt_number}, {state.seconds_since_start or 0:.0f} s so far"
    if error is None:
        logger.info("%s: not done yet (%s), trying again", what, so_far)
    else:
        logger.warning("%s failed (%s), retrying: %s", what, so_far, error)
