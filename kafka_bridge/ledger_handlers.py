"""Between Kafka and the ledger: commands in, domain outcomes out, and the records they become."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.services import AccountCreationOutcome, OpenAccount
from kafka_bridge.messages import (
    AccountCreationConfirmed,
    AccountCreationFailed,
    BalanceChanged,
    ConfirmAccountCreation,
    ConfirmMoneyTransfer,
    Message,
    MoneyTransferConfirmed,
    MoneyTransferFailed,
)
from kafka_bridge.topology import Topic
from transfers.services import LedgerCommand, LedgerOutcome, TransferMoney


@dataclass(frozen=True)
class Outgoing:
    """A record to produce: where, under which key, and what."""

    topic: Topic
    key: str | None
    message: Message


class NotACommand(Exception):
    """A record decoded fine but is no command the handler knows."""


def to_command(message: Message, delivery: str) -> LedgerCommand:
    if isinstance(message, ConfirmMoneyTransfer):
        return TransferMoney(
            command_id=message.id,
            token=message.token,
            amount_cents=message.amount_cents,
            from_account=message.from_account,
            to_account=message.to_account,
            description=message.description,
            delivery=delivery,
        )
    if isinstance(message, ConfirmAccountCreation):
        return OpenAccount(command_id=message.id, username=message.username, delivery=delivery)
    raise NotACommand(f"{message.RECORD} is not a command")


def to_records(outcome: LedgerOutcome, command_key: str | None) -> list[Outgoing]:
    """BalanceChanged for the debited then the credited account (keyed by their owners), then the feedback."""
    if isinstance(outcome, AccountCreationOutcome):
        feedback: Message = (
            AccountCreationFailed(id=outcome.command_id, reason=outcome.reason)
            if outcome.reason
            else AccountCreationConfirmed(id=outcome.command_id, iban=outcome.iban, token=outcome.token)
        )
        return [Outgoing(Topic.ACCOUNT_CREATION_FEEDBACK, command_key, feedback)]
    records = [
        Outgoing(
            Topic.BALANCE_CHANGED,
            change.username,
            BalanceChanged(
                iban=change.iban,
                new_balance_cents=change.new_balance_cents,
                changed_by_cents=change.changed_by_cents,
                counterparty=change.counterparty,
                description=change.description,
            ),
        )
        for change in outcome.balance_changes
    ]
    feedback = (
        MoneyTransferFailed(id=outcome.command_id, reason=outcome.reason)
        if outcome.reason
        else MoneyTransferConfirmed(id=outcome.command_id)
    )
    return [*records, Outgoing(Topic.MONEY_TRANSFER_FEEDBACK, command_key, feedback)]
