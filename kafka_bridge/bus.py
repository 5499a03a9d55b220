"""The command bus on Kafka: publish a command, wait for its answer, give up after a time-out.

The answer travels command handler -> feedback topic -> projector -> channel layer (Redis) -> here.
Every web process hears every answer on one group and keeps those it waits for; we start waiting
before publishing, so even an instant answer is never missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from channels.layers import get_channel_layer
from confluent_kafka import KafkaException
from django.conf import settings

from banking.answers import COMMAND_ANSWERS, answers_heard
from kafka_bridge import clients
from kafka_bridge.metrics import ANSWER_SECONDS, ANSWERS_TIMED_OUT
from kafka_bridge.retry import Unavailable
from kafka_bridge.translate import command_kind, command_record
from kafka_bridge.wire.codecs import encode_key, get_codec
from kafka_bridge.wire.headers import COMMAND_ID
from kafka_bridge.wire.messages import Message
from kafka_bridge.wire.topology import Topic
from kernel.bus import A, Command, CommandBus, NoAnswer, NotSent

logger = logging.getLogger(__name__)


class KafkaCommandBus(CommandBus):
    def __init__(self) -> None:
        self._producer = clients.producer()
        threading.Thread(target=self._serve_deliveries, daemon=True, name="command-publisher").start()

    def _serve_deliveries(self) -> None:
        while True:
            self._producer.poll(0.1)

    async def send(self, command: Command[A], *, key: str) -> A:
        kind = command_kind(command)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(settings.COMMAND_ANSWER_TIMEOUT):
                async with command_answers().waiting_for(command.command_id) as answer:
                    await self._publish(key, command_record(command), command.command_id)
                    told = await answer
        except TimeoutError:
            ANSWERS_TIMED_OUT.labels(kind).inc()
            logger.warning("no answer to %s command %s in time", kind, command.command_id)
            raise NoAnswer from None
        ANSWER_SECONDS.labels(kind).observe(time.perf_counter() - started)
        logger.debug("answered in %.1f ms", (time.perf_counter() - started) * 1000)
        return told

    async def _publish(self, key: str, message: Message, command_id: UUID) -> None:
        """Produce to the commands topic, keyed by username; return once the broker has it."""
        loop = asyncio.get_running_loop()
        delivered: asyncio.Future = loop.create_future()

        def report(error, _record) -> None:
            outcome = (
                (lambda: delivered.set_result(None))
                if error is None
                else (lambda: delivered.set_exception(NotSent(str(error))))
            )
            loop.call_soon_threadsafe(lambda: delivered.done() or outcome())

        try:
            value = get_codec().encode(Topic.COMMANDS, message)
            headers = [(COMMAND_ID, command_id.hex.encode())]  # so the handler's logs can name it before decoding
            self._producer.produce(
                Topic.COMMANDS.value, key=encode_key(key), value=value, headers=headers, on_delivery=report
            )
        except (Unavailable, KafkaException, BufferError) as error:
            logger.warning("could not send %s: %s", message.RECORD, error)
            raise NotSent(str(error)) from error
        await delivered


class CommandAnswers:
    """Every command answer the projector announces, heard once per process and handed to whoever waits.

    One channel joins the answers group for good, instead of a channel, a group join and a group leave
    per command: those Redis round trips were a fifth of the web process's CPU under load.
    """

    def __init__(self) -> None:
        self._layer = get_channel_layer()
        self._waiting: dict[str, set[asyncio.Future]] = {}  # several may wait for one command (two tabs)
        self._joined = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._hear_forever(), name="command-answers")

    @contextlib.asynccontextmanager
    async def waiting_for(self, command_id: UUID) -> AsyncIterator[asyncio.Future]:
        """A future for the command's answer; enter it before sending the command, so no answer is missed."""
        await self._joined.wait()
        future = asyncio.get_running_loop().create_future()
        waiting = self._waiting.setdefault(command_id.hex, set())
        waiting.add(future)
        try:
            yield future
        finally:
            waiting.discard(future)
            if not waiting:
                self._waiting.pop(command_id.hex, None)

    async def _hear_forever(self) -> None:
        while True:
            try:
                channel = await self._layer.new_channel()
                await self._layer.group_add(COMMAND_ANSWERS, channel)
                self._joined.set()
                while True:
                    self._tell(await self._layer.receive(channel))
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis away: callers time out meanwhile; listen again once it is back
                logger.exception("lost the command answers channel; listening again in a second")
                await asyncio.sleep(1)

    def _tell(self, message: dict[str, Any]) -> None:
        for command, answer in answers_heard(message).items():
            for future in self._waiting.get(command, ()):
                if not future.done():
                    future.set_result(answer)


_per_loop: dict[asyncio.AbstractEventLoop, CommandAnswers] = {}


def command_answers() -> CommandAnswers:
    """This event loop's `CommandAnswers` (daphne has one loop; tests and tools may run several)."""
    for closed in [loop for loop in _per_loop if loop.is_closed()]:
        del _per_loop[closed]  # its listening task holds the loop, so a weak key would never let go
    loop = asyncio.get_running_loop()
    if loop not in _per_loop:
        _per_loop[loop] = CommandAnswers()
    return _per_loop[loop]
