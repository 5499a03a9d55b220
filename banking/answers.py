"""The bank's answers to commands, in their one plain-data form: kept while an answer waits for its events,
and told to the web processes on the answers group, a batch's answers in one message."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from uuid import UUID

from accounts.commands import AccountAnswer
from alerts.commands import RuleAnswer
from kernel.live import Notification
from transfers.commands import TransferAnswer

Answer = AccountAnswer | TransferAnswer | RuleAnswer
KINDS: dict[str, type[Answer]] = {kind.__name__: kind for kind in (AccountAnswer, TransferAnswer, RuleAnswer)}
COMMAND_ANSWERS = "command.answers"  # the group every web process hears answers on, and its messages' type


def answer_as_data(answer: Answer) -> dict[str, Any]:
    return {"kind": type(answer).__name__, **asdict(answer)}


def answer_from_data(data: dict[str, Any]) -> Answer:
    fields = dict(data)
    kind = fields.pop("kind", "TransferAnswer")  # answers stored before they had a kind: transfers
    if kind not in KINDS:
        raise ValueError(f"no kind of answer is called {kind!r}")
    return KINDS[kind](**fields)


def answers_told(answers: dict[UUID, Answer]) -> list[Notification]:
    """A batch's answers as one channel-layer message on the answers group (none for no answers)."""
    if not answers:
        return []
    message = {"type": COMMAND_ANSWERS, "answers": {key.hex: answer_as_data(value) for key, value in answers.items()}}
    return [(COMMAND_ANSWERS, message)]


def answers_heard(message: dict[str, Any]) -> dict[str, Answer]:
    """The answers of one message on the answers group, by the hex of their command ids."""
    return {command: answer_from_data(payload) for command, payload in message["answers"].items()}
