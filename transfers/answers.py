"""The bank's answers to commands, and their one plain-data form: kept while an answer waits for its events,
and sent to the web processes."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from accounts.commands import AccountAnswer
from alerts.commands import RuleAnswer
from transfers.commands import TransferAnswer

Answer = AccountAnswer | TransferAnswer | RuleAnswer
KINDS: dict[str, type[Answer]] = {kind.__name__: kind for kind in (AccountAnswer, TransferAnswer, RuleAnswer)}


def answer_as_data(answer: Answer) -> dict[str, Any]:
    return {"kind": type(answer).__name__, **asdict(answer)}


def answer_from_data(data: dict[str, Any]) -> Answer:
    fields = dict(data)
    return KINDS[fields.pop("kind", "TransferAnswer")](**fields)  # answers stored before they had a kind: transfers
