"""Money transfers on the ledger (command side)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from uuid import UUID

from accounts.iban import is_open_iban
from accounts.ledger import Ledger
from kernel.balances import BalanceChange
from transfers.commands import TransferMoney
from transfers.models import ProcessedTransfer
from transfers.rules import (
    BALANCE_TOO_LARGE,
    BOTH_UNKNOWN,
    INSUFFICIENT_FUNDS,
    INVALID_TOKEN,
    MAX_BALANCE_CENTS,
    TO_IS_INVALID,
    UUID_ALREADY_USED,
    transfer_refusal,
)


@dataclass(frozen=True)
class TransferOutcome:
    command_id: UUID
    reason: str | None = None
    balance_changes: tuple[BalanceChange, ...] = ()  # the events to publish now
    events_caused: int = 0  # the events the command caused, now or when it was first handled


def payload_digest(command: TransferMoney) -> str:
    """What the command asks, as a digest: a command id sent again with another payload is another command."""
    payload = [command.token, command.amount_cents, command.from_account, command.to_account, command.description]
    if command.reference is not None:  # the digests of commands from before references stay as they were
        payload.append(command.reference)
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()


def execute_transfer(command: TransferMoney, *, delivery: str, ledger: Ledger) -> TransferOutcome:
    """Move the money, or say why not; a known command id gets its stored outcome again.

    A repeat normally gets the answer only (no balance moves, no events). When the very same delivery
    comes back, the events of the first attempt never reached Kafka, so they are returned again too.
    """
    digest = payload_digest(command)
    earlier = ledger.processed(ProcessedTransfer, command.command_id)
    if earlier is not None:
        if earlier.payload_digest and earlier.payload_digest != digest:
            return TransferOutcome(command.command_id, UUID_ALREADY_USED)
        changes = earlier.balance_changes if earlier.delivery == delivery else []
        return TransferOutcome(
            earlier.command_id,
            earlier.reason or None,
            tuple(BalanceChange.from_json(change) for change in changes),
            events_caused=len(earlier.balance_changes),
        )
    reason, changes = _transfer(command, ledger)
    ledger.handled(
        ProcessedTransfer(
            command_id=command.command_id,
            reason=reason or "",
            balance_changes=[change.as_json() for change in changes],
            delivery=delivery,
            payload_digest=digest,
        )
    )
    return TransferOutcome(command.command_id, reason, changes, events_caused=len(changes))


def _transfer(command: TransferMoney, ledger: Ledger) -> tuple[str | None, tuple[BalanceChange, ...]]:
    reason = transfer_refusal(
        amount_cents=command.amount_cents,
        from_account=command.from_account,
        to_account=command.to_account,
        description=command.description,
        reference=command.reference,
    )
    if reason:
        return reason, ()
    amount = command.amount_cents
    source = ledger.get(command.from_account)
    target = ledger.get(command.to_account)
    if source is None and target is None:
        return BOTH_UNKNOWN, ()
    if source is not None:
        if source.token != command.token:
            return INVALID_TOKEN, ()
        if target is None and is_open_iban(command.to_account):
            return TO_IS_INVALID, ()  # one of ours by its form, but no account: the original let the money leave
        if source.balance_cents - amount < source.limit_cents:
            return INSUFFICIENT_FUNDS, ()
    if target is not None and target.balance_cents + amount > MAX_BALANCE_CENTS:
        return BALANCE_TOO_LARGE, ()  # anonymous deposits could once drive it past a bigint: poison on demand
    changes = []
    # Debit first, then credit: the original's event order. A source we do not hold (cash, another
    # bank) needs no token; a target we do not hold (cash, another bank) means the money leaves the bank.
    if source is not None:
        ledger.change_balance(source, -amount)
        changes.append(
            BalanceChange(
                source.username,
                source.iban,
                source.balance_cents,
                -amount,
                command.to_account,
                command.description,
                ledger.time,
                command.reference,
            )
        )
    if target is not None:
        ledger.change_balance(target, amount)
        changes.append(
            BalanceChange(
                target.username,
                target.iban,
                target.balance_cents,
                amount,
                command.from_account,
                command.description,
                ledger.time,
                command.reference,
            )
        )
    return None, tuple(changes)


def transfer_accounts(command: TransferMoney) -> list[str]:
    """The accounts a transfer may change: both sides."""
    return [command.from_account, command.to_account]
