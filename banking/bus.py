"""The command bus: how the domain's user actions reach the bank, chosen by a setting like SESSION_ENGINE.

`settings.COMMAND_BUS` names the class (`kafka_bridge.bus.KafkaCommandBus` in production). The domain
hands it a command and the key that orders it (the customer's username) and gets the typed answer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from functools import cache
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string


class NoAnswer(Exception):
    """The bank did not answer within `settings.COMMAND_ANSWER_TIMEOUT`; the command may still be carried out."""


class CommandBus(ABC):
    @abstractmethod
    async def send(self, command: Any, *, key: str) -> Any:
        """Send `command` and return the bank's answer to it (an `AccountAnswer` or a `TransferAnswer`).

        The answer comes only once every event the command caused is in the read model, so a read made
        right after it sees them. Raise `NoAnswer` when none comes in time.
        """


@cache
def get_command_bus() -> CommandBus:
    return import_string(settings.COMMAND_BUS)()


class NotSent(Exception):
    """The command could not be handed to the bank (the broker or the registry is away): nothing happened."""


NO_ANSWER = "no answer from the bank"


def no_answer_reason() -> str:
    return (
        f"{NO_ANSWER} within {settings.COMMAND_ANSWER_TIMEOUT:g} seconds; it may still be carried out: "
        "send it again with the same uuid to learn its outcome"
    )


NOT_SENT = "the bank cannot be reached right now; nothing was done, try again"
