"""Tell live subscribers (GraphQL subscriptions, pages) what the read side just stored, through the channel layer.

The channel layer is Redis, so every web process hears every message: a result reaches a
subscription on whichever process holds it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from transfers.models import Transaction
from transfers.money import format_euro

ALL_TRANSACTIONS = "transactions.all"
TRANSACTION_CREATED = "transaction.created"
COMMAND_ANSWERED = "command.answered"


def transactions_group(iban: str) -> str:
    return f"transactions.{''.join(c for c in iban if c.isalnum())[:80]}"


def command_group(command_id: UUID) -> str:
    return f"command.{command_id.hex}"


def transaction_payload(row: Transaction) -> dict[str, Any]:
    return {
        "id": row.pk,
        "iban": row.iban,
        "new_balance": format_euro(row.new_balance_cents),
        "changed_by": format_euro(abs(row.changed_by_cents)),
        "changed_by_cents": row.changed_by_cents,
        "from_to": row.counterparty,
        "descr": row.description,
        "direction": row.direction,
    }


def notify_transactions(rows: list[Transaction]) -> None:
    layer = get_channel_layer()
    send = async_to_sync(_send_all)
    send(
        layer,
        [
            (group, {"type": TRANSACTION_CREATED, "transaction": transaction_payload(row)})
            for row in rows
            for group in (ALL_TRANSACTIONS, transactions_group(row.iban))
        ],
    )


def notify_command_answered(command_id: UUID, answer: dict[str, Any]) -> None:
    layer = get_channel_layer()
    async_to_sync(_send_all)(layer, [(command_group(command_id), {"type": COMMAND_ANSWERED, **answer})])


async def _send_all(layer, messages: list[tuple[str, dict[str, Any]]]) -> None:
    for group, message in messages:
        await layer.group_send(group, message)
