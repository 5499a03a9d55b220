"""Money transfers on the ledger, and the batch service that runs every ledger command in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from uuid import UUID

from django.db import transaction

from accounts.iban import CASH, is_open_iban, looks_like_open_iban
from accounts.ledger import Ledger
from accounts.models import ProcessedAccountCreation
from accounts.services import AccountCreationOutcome, OpenAccount, open_account
from transfers.models import ProcessedTransfer

# The original's reasons, word for word: clients match on them.
FROM_IS_INVALID = "from is invalid"
FROM_AND_TO_ARE_THE_SAME = "from and to can't be same for transfer"
INVALID_TOKEN = "invalid token"
INSUFFICIENT_FUNDS = "insufficient funds"
BOTH_UNKNOWN = "both to and from not known at this bank"
# Ours: the original accepted these and did something surprising.
AMOUNT_NOT_POSITIVE = "amount must be positive"
AMOUNT_TOO_LARGE = "amount is too large"
TO_IS_INVALID = "to is invalid"

MAX_TRANSFER_CENTS = 10**15  # ten trillion euro: beyond any real transfer, far from overflowing a bigint


@dataclass(frozen=True)
class TransferMoney:
    """The ConfirmMoneyTransfer command. `delivery` says where it was read from (opaque to the domain)."""

    command_id: UUID
    token: str
    amount_cents: int
    from_account: str
    to_account: str
    description: str
    delivery: str


@dataclass(frozen=True)
class BalanceChange:
    """One account's balance moved: the BalanceChanged event, addressed to the account's owner."""

    username: str
    iban: str
    new_balance_cents: int
    changed_by_cents: int
    counterparty: str
    description: str


@dataclass(frozen=True)
class TransferOutcome:
    command_id: UUID
    reason: str | None = None
    balance_changes: tuple[BalanceChange, ...] = ()


def refusal(command: TransferMoney) -> str | None:
    """The reason to refuse a transfer before any account is looked at, or None."""
    if command.amount_cents <= 0:
        return AMOUNT_NOT_POSITIVE
    if command.amount_cents > MAX_TRANSFER_CENTS:
        return AMOUNT_TOO_LARGE
    if command.from_account != CASH and not is_open_iban(command.from_account):
        return FROM_IS_INVALID
    if not command.to_account.strip() or (
        looks_like_open_iban(command.to_account) and not is_open_iban(command.to_account)
    ):
        return TO_IS_INVALID
    if command.from_account == command.to_account:
        return FROM_AND_TO_ARE_THE_SAME
    return None


def execute_transfer(
    command: TransferMoney, *, ledger: Ledger, processed: dict[UUID, ProcessedTransfer]
) -> TransferOutcome:
    """Move the money, or say why not; a known command id gets its stored outcome again.

    A repeat normally gets the answer only (no balance moves, no events). When the very same delivery
    comes back, the events of the first attempt never reached Kafka, so they are returned again too.
    """
    earlier = processed.get(command.command_id)
    if earlier is not None:
        changes = earlier.balance_changes if earlier.delivery == command.delivery else []
        return TransferOutcome(
            earlier.command_id, earlier.reason or None, tuple(BalanceChange(**change) for change in changes)
        )
    reason, changes = _transfer(command, ledger)
    processed[command.command_id] = ProcessedTransfer(
        command_id=command.command_id,
        reason=reason or "",
        balance_changes=[asdict(c) for c in changes],
        delivery=command.delivery,
    )
    return TransferOutcome(command.command_id, reason, changes)


def _transfer(command: TransferMoney, ledger: Ledger) -> tuple[str | None, tuple[BalanceChange, ...]]:
    reason = refusal(command)
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
        if source.balance_cents - amount < source.limit_cents:
            return INSUFFICIENT_FUNDS, ()
    changes = []
    # Debit first, then credit: the original's event order. A source we do not hold (cash, another
    # bank) needs no token; a target we do not hold means the money leaves the bank.
    if source is not None:
        ledger.change_balance(source, -amount)
        changes.append(
            BalanceChange(
                source.username, source.iban, source.balance_cents, -amount, command.to_account, command.description
            )
        )
    if target is not None:
        ledger.change_balance(target, amount)
        changes.append(
            BalanceChange(
                target.username, target.iban, target.balance_cents, amount, command.from_account, command.description
            )
        )
    return None, tuple(changes)


LedgerCommand = OpenAccount | TransferMoney
LedgerOutcome = AccountCreationOutcome | TransferOutcome


def execute_commands(commands: Sequence[LedgerCommand]) -> list[LedgerOutcome]:
    """Run a batch of commands in order, in one ledger transaction; return one outcome per command.

    The transaction commits before this returns. Every outcome is stored with the command, so a
    command read again (after a crash, or sent twice) is answered from the store and never moves
    money twice.
    """
    transfers = [c for c in commands if isinstance(c, TransferMoney)]
    creations = [c for c in commands if isinstance(c, OpenAccount)]
    with transaction.atomic(using="ledger"):
        ledger = Ledger(iban for c in transfers for iban in (c.from_account, c.to_account) if is_open_iban(iban))
        done_transfers = ProcessedTransfer.objects.in_bulk([c.command_id for c in transfers])
        done_creations = ProcessedAccountCreation.objects.in_bulk([c.command_id for c in creations])
        known = set(done_transfers) | set(done_creations)
        outcomes: list[LedgerOutcome] = []
        for command in commands:
            if isinstance(command, TransferMoney):
                outcomes.append(execute_transfer(command, ledger=ledger, processed=done_transfers))
            else:
                outcomes.append(open_account(command, ledger=ledger, processed=done_creations))
        ledger.save()
        ProcessedTransfer.objects.bulk_create([p for i, p in done_transfers.items() if i not in known])
        ProcessedAccountCreation.objects.bulk_create([p for i, p in done_creations.items() if i not in known])
    return outcomes
