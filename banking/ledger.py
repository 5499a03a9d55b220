"""The ledger's side of the bank: a batch of every app's commands, run in one ledger transaction.

Each kind of command says where its outcomes are kept, how it runs and which accounts it may touch; the
batch locks those accounts up front, runs the commands in order and saves what they did at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import transaction

from accounts.commands import OpenAccount
from accounts.iban import is_open_iban
from accounts.ledger import Ledger, Write
from accounts.models import ProcessedAccountCreation
from accounts.services import AccountCreationOutcome, open_account
from alerts.commands import ChangeAlertRule
from alerts.models import ProcessedAlertRuleChange
from alerts.services import AlertRulesOutcome, change_alert_rule
from kernel.bus import Command, UnknownCommand
from kernel.databases import LEDGER
from kernel.models import ProcessedCommand
from transfers.commands import TransferMoney
from transfers.models import ProcessedTransfer
from transfers.services import TransferOutcome, execute_transfer, transfer_accounts

LedgerCommand = OpenAccount | TransferMoney | ChangeAlertRule
LedgerOutcome = AccountCreationOutcome | TransferOutcome | AlertRulesOutcome


@dataclass(frozen=True)
class LedgerService:
    """How one kind of command runs on the ledger."""

    processed: type[ProcessedCommand]  # where its outcomes are kept
    execute: Callable[..., LedgerOutcome]  # (command, *, delivery, ledger) -> its outcome
    accounts: Callable[[Any], Iterable[str]]  # the accounts it may change or read, to lock them first


SERVICES: dict[type[Command[Any]], LedgerService] = {
    OpenAccount: LedgerService(ProcessedAccountCreation, open_account, lambda command: ()),
    TransferMoney: LedgerService(ProcessedTransfer, execute_transfer, transfer_accounts),
    ChangeAlertRule: LedgerService(ProcessedAlertRuleChange, change_alert_rule, lambda command: [command.iban]),
}


@dataclass(frozen=True)
class Received:
    """A command as the ledger receives it; `delivery` says where it was read from (opaque to the domain)."""

    command: LedgerCommand
    delivery: str


def service_of(command: Command[Any]) -> LedgerService:
    try:
        return SERVICES[type(command)]
    except KeyError:
        raise UnknownCommand(f"the ledger runs no {type(command).__name__}") from None


def accounts_touched(received: Sequence[Received]) -> set[str]:
    """The IBANs of ours that a batch may change or read: to lock them before it runs."""
    ibans = {iban for item in received for iban in service_of(item.command).accounts(item.command)}
    return {iban for iban in ibans if is_open_iban(iban)}


def execute_commands(received: Sequence[Received], also: Sequence[Write] = ()) -> list[LedgerOutcome]:
    """Run a batch of commands in order, in one ledger transaction; return one outcome per command.

    Every outcome is stored with the command, so a command read again (after a crash, or sent twice) is
    answered from the store and never moves money twice. `also` are the caller's own writes, made in the
    same statement as the batch's. Inside a caller's transaction (the handler's) this joins it; otherwise it
    commits before returning.
    """
    ids: dict[type[ProcessedCommand], list[UUID]] = defaultdict(list)
    for item in received:
        ids[service_of(item.command).processed].append(item.command.command_id)
    with transaction.atomic(using=LEDGER, savepoint=False):
        ledger = Ledger(accounts_touched(received), ids)
        outcomes = [
            service_of(item.command).execute(item.command, delivery=item.delivery, ledger=ledger) for item in received
        ]
        ledger.save(also)
    return outcomes
