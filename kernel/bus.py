"""The command bus: how the domain's user actions reach the bank, chosen by a setting like SESSION_ENGINE.

`settings.COMMAND_BUS` names the class (`kafka_bridge.bus.KafkaCommandBus` in production,
`kernel.bus.InMemoryBus` in tests that need no broker). Each command declares the type of its answer
(`TransferMoney(Command[TransferAnswer])`), and `ask` returns exactly that type, whatever happens.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar, get_args, get_origin
from uuid import UUID

from django.conf import settings
from django.utils.module_loading import import_string

from kernel.limits import command_refusal
from kernel.logs import about_command

NO_ANSWER = "no answer from the bank"
NOT_SENT = "the bank cannot be reached right now; nothing was done, try again"


class Answer(Protocol):
    """What the bank says to a command; every kind can say "not done" with a reason."""

    @classmethod
    def failed(cls, reason: str, *, pending: bool = False) -> Self: ...


A = TypeVar("A", bound=Answer, covariant=True)


@dataclass(frozen=True)
class Command(Generic[A]):
    """A command to the bank. Its answer type comes from the class it names: `Command[TransferAnswer]`."""

    answer_type: ClassVar[type[Any]]
    command_id: UUID

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for base in getattr(cls, "__orig_bases__", ()):
            if get_origin(base) is Command:
                cls.answer_type = get_args(base)[0]


class NoAnswer(Exception):
    """The bank did not answer within `settings.COMMAND_ANSWER_TIMEOUT`; the command may still be carried out."""


class NotSent(Exception):
    """The command could not be handed to the bank (the broker or the registry is away): nothing happened."""


class UnknownCommand(TypeError):
    """A command the bank does not know: an error in the code that sent it, never an answer."""


class CommandBus(ABC):
    @abstractmethod
    async def send(self, command: Command[A], *, key: str) -> A:
        """Send `command` and return the bank's answer to it.

        The answer comes only once every event the command caused is in the read model, so a read made
        right after it sees them. Raise `NoAnswer` when none comes in time, `NotSent` when it could not go.
        """


@cache
def get_command_bus() -> CommandBus:
    bus: CommandBus = import_string(settings.COMMAND_BUS)()
    return bus


def no_answer_reason() -> str:
    return (
        f"{NO_ANSWER} within {settings.COMMAND_ANSWER_TIMEOUT:g} seconds; it may still be carried out: "
        "send it again with the same uuid to learn its outcome"
    )


async def ask(command: Command[A], *, key: str) -> A:
    """Send `command` under `key` (what orders it: a username, an IBAN) and return its answer; when the bank
    does not answer in time or cannot be reached, or the client sent too many, an answer of the command's type
    that says so."""
    with about_command(command.command_id):
        kind: type[A] = command.answer_type
        if reason := await command_refusal(key):
            return kind.failed(reason)
        try:
            return await get_command_bus().send(command, key=key)
        except NoAnswer:
            return kind.failed(no_answer_reason(), pending=True)
        except NotSent:
            return kind.failed(NOT_SENT)


class InMemoryBus(CommandBus):
    """A bus without a broker, for tests: each kind of command is answered by what `answer_with` gave for it
    (an answer, a function of the command, or an exception to raise), and every command sent is kept."""

    def __init__(self) -> None:
        self.sent: list[Command[Any]] = []
        self._answers: dict[type, list[Any]] = {}

    def answer_with(self, kind: type[Command[Any]], *answers: Any) -> None:
        """Answer the next commands of `kind` with these, in turn; the last one stays for the rest."""
        self._answers[kind] = list(answers)

    async def send(self, command: Command[A], *, key: str) -> A:
        answers = self._answers.get(type(command))
        if not answers:
            raise UnknownCommand(f"the in-memory bus has no answer for {type(command).__name__}")
        self.sent.append(command)
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, type) and issubclass(answer, Exception):
            raise answer
        told: A = answer(command) if callable(answer) else answer
        return told
