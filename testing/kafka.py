"""Real-broker helpers for integration tests: produce commands, run handler processes, collect what they emit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from confluent_kafka import TopicPartition

from devstack.processes import die_with_parent
from kafka_bridge import batches, clients
from kafka_bridge.logging import silent_librdkafka_logger
from kafka_bridge.tools import offsets
from kafka_bridge.tools.offsets import end_offsets  # noqa: F401 - re-exported for the tests
from kafka_bridge.wire.codecs import decode_key, encode_key, get_codec
from kafka_bridge.wire.messages import Message
from testing.live import database_env

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def new_group_at_end(topic: str) -> str:
    return offsets.new_group_at_end(topic, prefix="test-handler")


def produce(records: list[tuple]) -> None:
    """Produce raw (topic, key, value[, headers]) records and wait until the broker has them all."""
    producer = clients.producer(**{"linger.ms": 5, "logger": silent_librdkafka_logger()})
    failures = []
    for topic, key, value, *headers in records:
        producer.produce(
            topic,
            key=None if key is None else encode_key(key),
            value=value,
            headers=headers[0] if headers else None,
            on_delivery=lambda err, msg: err and failures.append(err),
        )
        producer.poll(0)
    assert producer.flush(30) == 0 and not failures, failures


def produce_large(records: list[tuple]) -> None:
    """Produce (topic, key bytes, value, headers) records as large as the broker takes (about a megabyte)."""
    producer = clients.producer(**{"message.max.bytes": 1_048_000, "logger": silent_librdkafka_logger()})
    for topic, key, value, headers in records:
        producer.produce(topic, key=key, value=value, headers=headers)
    assert producer.flush(30) == 0


def produce_commands(commands: list[tuple[str, Message]], topic: str = "commands") -> None:
    codec = get_codec()
    produce([(topic, key, codec.encode(topic, message)) for key, message in commands])


class Collector:
    """Reads a topic from given offsets, read-committed, decoding each record with the codec."""

    def __init__(self, start: list[TopicPartition], decode: bool = True) -> None:
        self.consumer = offsets.reader_from(start)
        self.decode = decode
        self.records: list = []

    def until(self, done: Callable[[list], bool], timeout: float = 60.0) -> list:
        deadline = time.monotonic() + timeout
        while not done(self.records):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s with {len(self.records)} records")
            self.poll()
        return self.records

    def poll(self, timeout: float = 0.2) -> None:
        """Read what has arrived, waiting up to `timeout` for the first record."""
        codec = get_codec()
        for record in batches.consume_available(self.consumer, 500, timeout):
            value = codec.decode(record.topic(), record.value()) if self.decode else record
            self.records.append((decode_key(record.key()), value))

    def settle(self, seconds: float = 2.0) -> list:
        """Keep reading for `seconds` more, to catch anything that should not be there."""
        end = time.monotonic() + seconds
        return self.until(lambda _: time.monotonic() > end, timeout=seconds + 30)

    def close(self) -> None:
        self.consumer.close()


class HandlerProcess:
    """`manage.py run_command_handler` in a child process, pointed at the test databases."""

    def __init__(
        self, group: str, instance: str, log: Path, batch_size: int = 500, *args: str, **env_overrides: str
    ) -> None:
        env = {**os.environ, **database_env("command-handler"), **env_overrides}
        self.log = log
        with open(log, "ab") as output:  # the child keeps its own copy of the descriptor
            self.process = self._spawn(group, instance, batch_size, args, env, output)

    @staticmethod
    def _spawn(group, instance, batch_size, args, env, output) -> subprocess.Popen:
        return subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "run_command_handler",
                f"--group={group}",
                f"--instance={instance}",
                f"--batch-size={batch_size}",
                *args,
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent(),
        )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self, timeout: float = 30) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def output(self) -> str:
        return self.log.read_text(errors="replace")
