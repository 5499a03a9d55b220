"""Send commands from the web processes: one shared producer, awaited per command until the broker has it."""

from __future__ import annotations

import asyncio
import threading
from functools import cache

from confluent_kafka import KafkaException

from kafka_bridge import clients
from kafka_bridge.codecs import encode_key, get_codec
from kafka_bridge.messages import Message
from kafka_bridge.topology import Topic


class CommandPublisher:
    def __init__(self) -> None:
        self._producer = clients.producer()
        threading.Thread(target=self._serve_deliveries, daemon=True, name="command-publisher").start()

    def _serve_deliveries(self) -> None:
        while True:
            self._producer.poll(0.1)

    async def publish(self, key: str, command: Message) -> None:
        """Produce `command` to the commands topic, keyed by username; return once it is stored."""
        loop = asyncio.get_running_loop()
        delivered: asyncio.Future = loop.create_future()

        def report(error, _message) -> None:
            if error is None:
                loop.call_soon_threadsafe(lambda: delivered.done() or delivered.set_result(None))
            else:
                loop.call_soon_threadsafe(lambda: delivered.done() or delivered.set_exception(KafkaException(error)))

        value = get_codec().encode(Topic.COMMANDS, command)
        self._producer.produce(Topic.COMMANDS.value, key=encode_key(key), value=value, on_delivery=report)
        await delivered


@cache
def get_publisher() -> CommandPublisher:
    return CommandPublisher()
