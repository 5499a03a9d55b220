"""The typed seam: each command's answer is of the type it declares, and an unknown command is an error."""

import asyncio
import uuid
from dataclasses import dataclass

import pytest

from accounts.commands import AccountAnswer, OpenAccount
from kernel.bus import Command, NoAnswer, NotSent, UnknownCommand, ask
from transfers.commands import TransferAnswer, TransferMoney


def a_transfer():
    return TransferMoney(uuid.uuid4(), "t", 100, "cash", "NL66OPEN0000000000", "d")


def test_each_command_declares_its_answer_type():
    assert (OpenAccount.answer_type, TransferMoney.answer_type) == (AccountAnswer, TransferAnswer)


def test_an_answer_comes_back_as_the_commands_answer_type(in_memory):
    in_memory.answer_with(TransferMoney, lambda command: TransferAnswer(success=command.amount_cents == 100))

    assert asyncio.run(ask(a_transfer(), key="alice")) == TransferAnswer(success=True)


def test_no_answer_in_time_and_no_bank_to_reach_are_answers_of_the_commands_type(in_memory):
    in_memory.answer_with(TransferMoney, NoAnswer, NotSent)
    in_memory.answer_with(OpenAccount, NoAnswer)

    late, away = asyncio.run(ask(a_transfer(), key="a")), asyncio.run(ask(a_transfer(), key="a"))
    account = asyncio.run(ask(OpenAccount(uuid.uuid4(), "alice"), key="alice"))

    assert (late.success, late.pending, late.reason.startswith("no answer from the bank")) == (False, True, True)
    assert (away.pending, away.reason) == (False, "the bank cannot be reached right now; nothing was done, try again")
    assert isinstance(account, AccountAnswer) and account.reason.startswith("no answer from the bank")


def test_a_command_the_bank_does_not_know_is_an_error_never_an_answer(in_memory):
    @dataclass(frozen=True)
    class CloseAccount(Command[AccountAnswer]):
        iban: str

    with pytest.raises(UnknownCommand):
        asyncio.run(ask(CloseAccount(uuid.uuid4(), "NL66OPEN0000000000"), key="x"))
