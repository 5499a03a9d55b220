"""Copies of poison records on a dead-letter topic, with where they came from and why, small enough to produce."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from kafka_bridge.batches import where
from kafka_bridge.metrics import DEAD_LETTERS, DEAD_LETTERS_SKIPPED
from kafka_bridge.wire.headers import dead_letter_headers

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeadLetter:
    record: Message
    error: str


MAX_COPIED_KEY = 1024  # bytes: a username has at most 150 characters
MAX_COPIED_VALUE = 64 * 1024  # bytes: a record is well under a kilobyte; anything larger is kept by its size
MAX_COPIED_HEADERS = 8 * 1024  # bytes of the record's own headers
MAX_COPIED_HEADER_COUNT = 100  # of them: an empty header is 0 bytes, and a record can carry 500,000


class DeadLetters:
    """Copies of poison records on a dead-letter topic, with where they came from and why.

    A copy keeps at most 1 KiB of key, 64 KiB of value and 8 KiB (and 100) of the record's own headers, and says
    the original sizes of what it left out: the copy of a record as large as the broker takes is always small
    enough to produce. If the broker still refuses it for its size, the copy goes again without the value, and
    if it refuses that too, the copy is skipped with an error in the log: a loop never stops for a copy.
    """

    def __init__(self, producer: Producer, topic: str) -> None:
        self.producer, self.topic = producer, topic

    def send(self, letters: Sequence[DeadLetter], *, wait: bool) -> None:
        """Produce the copies; with `wait` (outside a transaction), return when the broker has them all."""
        failures: list[KafkaError] = []
        for letter in letters:
            logger.warning("dead-lettering %s: %s", where(letter.record), letter.error)
            self._produce(letter, failures if wait else None)
        if wait and letters and (self.producer.flush(30) or failures):
            raise KafkaException(failures[0] if failures else KafkaError(KafkaError._TIMED_OUT))
        if letters:
            DEAD_LETTERS.labels(self.topic).inc(len(letters))

    def _produce(self, letter: DeadLetter, failures: list[KafkaError] | None, keep_value: bool = True) -> None:
        record = letter.record
        key, value = record.key() or b"", record.value()
        value_fits = keep_value and len(value or b"") <= MAX_COPIED_VALUE
        headers = dead_letter_headers(
            record,
            letter.error,
            dropped_value=not value_fits,
            own_headers=_bounded(record.headers() or []),
            key_size=len(key) if len(key) > MAX_COPIED_KEY else None,
        )
        while True:
            try:
                self.producer.produce(
                    self.topic,
                    key=key[:MAX_COPIED_KEY] if record.key() is not None else None,
                    value=value if value_fits else None,
                    headers=headers,
                    on_delivery=None if failures is None else _collecting(failures),
                )
                return
            except BufferError:  # the local queue is full: let deliveries drain
                self.producer.poll(0.1)
            except KafkaException as error:
                if error.args[0].code() != KafkaError.MSG_SIZE_TOO_LARGE:
                    raise
                if keep_value:
                    self._produce(letter, failures, keep_value=False)  # a smaller copy, never an exit
                else:
                    logger.error("no copy of %s on %s: too large even without its value", where(record), self.topic)
                    DEAD_LETTERS_SKIPPED.labels(self.topic).inc()
                return


def _collecting(failures: list[KafkaError]) -> Callable[[KafkaError | None, Message], None]:
    def report(error: KafkaError | None, _record: Message) -> None:
        if error is not None:
            failures.append(error)

    return report


def _bounded(headers: list[tuple[str, bytes | None]]) -> list[tuple[str, bytes | None]]:
    """The record's own headers, the first `MAX_COPIED_HEADER_COUNT` of them as far as they fit in
    `MAX_COPIED_HEADERS` bytes."""
    kept, size = [], 0
    for name, value in headers[:MAX_COPIED_HEADER_COUNT]:
        size += len(name.encode("utf-8", "replace")) + len(value or b"")
        if size > MAX_COPIED_HEADERS:
            break
        kept.append((name, value))
    return kept
