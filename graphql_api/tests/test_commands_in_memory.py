"""The original's mutations and subscriptions for commands, run in this process on the in-memory bus: what a
client sends becomes one command, and the bank's answer comes back in the original's shape."""

import asyncio
import uuid

from graphql_api.schema import schema
from testing.graphql import COMMAND_ID, MONEY_TRANSFER, TRANSFER, TRANSFER_MUTATION
from transfers.commands import TransferAnswer, TransferMoney


def test_a_transfer_mutation_sends_one_command_with_its_accounts_read_once_and_tells_the_banks_answer(in_memory):
    in_memory.answer_with(TransferMoney, TransferAnswer(success=False, reason="insufficient funds"))

    result = asyncio.run(schema.execute(TRANSFER_MUTATION, variable_values=TRANSFER))

    assert result.errors is None
    assert result.data["money_transfer"] == {"uuid": COMMAND_ID, "success": False, "reason": "insufficient funds"}
    [sent] = in_memory.sent
    assert (sent.command_id, sent.from_account, sent.amount_cents) == (
        uuid.UUID(COMMAND_ID),
        "NL66OPEN0000000000",
        1234,
    )


def test_a_transfer_subscription_yields_the_answer_once(in_memory):
    in_memory.answer_with(TransferMoney, TransferAnswer(success=True))

    async def answers():
        stream = await schema.subscribe(MONEY_TRANSFER, variable_values=TRANSFER)
        return [item async for item in stream]

    [answer] = asyncio.run(answers())

    assert answer.errors is None
    assert answer.data["money_transfer"] == {"uuid": COMMAND_ID, "success": True, "reason": None}


def test_a_transfer_the_edge_refuses_is_answered_without_a_command(in_memory):
    in_memory.answer_with(TransferMoney, TransferAnswer(success=True))

    result = asyncio.run(schema.execute(TRANSFER_MUTATION, variable_values=TRANSFER | {"amount": -5}))

    assert result.data["money_transfer"]["success"] is False and result.data["money_transfer"]["reason"]
    assert in_memory.sent == []


def test_a_transfers_payment_reference_goes_with_its_command(in_memory):
    in_memory.answer_with(TransferMoney, TransferAnswer(success=True))
    result = asyncio.run(schema.execute(TRANSFER_MUTATION, variable_values=TRANSFER | {"reference": "INV-1"}))

    assert result.errors is None and in_memory.sent[0].reference == "INV-1"
