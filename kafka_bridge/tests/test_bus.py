"""The command bus's answers: each waiter gets its own, typed as the domain's answers."""

import asyncio
import uuid

import pytest
from channels.layers import channel_layers

from accounts.commands import AccountAnswer
from kafka_bridge import bus
from kafka_bridge.bus import COMMAND_ANSWERS, answers_message, command_answers
from transfers.commands import TransferAnswer


@pytest.fixture
def in_memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


async def tell(answers):
    await channel_layers["default"].group_send(COMMAND_ANSWERS, answers_message(answers))


def test_each_waiter_gets_the_answer_to_its_own_command(in_memory_layer):
    mine, theirs = uuid.uuid4(), uuid.uuid4()

    async def scenario():
        async with command_answers().waiting_for(mine) as answer:
            await tell({theirs: TransferAnswer(success=False, reason="no"), mine: TransferAnswer(success=True)})
            return await asyncio.wait_for(answer, 5)

    assert asyncio.run(scenario()) == TransferAnswer(success=True)


def test_account_answers_come_back_as_account_answers(in_memory_layer):
    mine = uuid.uuid4()

    async def scenario():
        async with command_answers().waiting_for(mine) as answer:
            await tell({mine: AccountAnswer(iban="NL66OPEN0000000000", token="0" * 20)})
            return await asyncio.wait_for(answer, 5)

    assert asyncio.run(scenario()) == AccountAnswer(iban="NL66OPEN0000000000", token="0" * 20)


def test_an_answer_nobody_waits_for_any_more_does_not_disturb_the_next(in_memory_layer):
    given_up, next_one = uuid.uuid4(), uuid.uuid4()

    async def scenario():
        async with command_answers().waiting_for(given_up):
            pass  # the caller timed out before the answer came
        await tell({given_up: TransferAnswer(success=True)})
        async with command_answers().waiting_for(next_one) as answer:
            await tell({next_one: TransferAnswer(success=False, reason="late")})
            return await asyncio.wait_for(answer, 5)

    assert asyncio.run(scenario()) == TransferAnswer(success=False, reason="late")


def test_the_answers_of_a_closed_event_loop_are_let_go(in_memory_layer):
    async def use():
        command_answers()

    for _ in range(3):
        asyncio.run(use())

    assert len(bus._per_loop) == 1  # only the last loop's, until the next call finds it closed


def test_a_restarted_process_takes_its_old_place_in_the_answers_group(in_memory_layer, monkeypatch):
    monkeypatch.setenv("PROCESS_NAME", "web-1")

    async def one_life():
        async with command_answers().waiting_for(uuid.uuid4()):  # joined the group
            pass

    asyncio.run(one_life())
    asyncio.run(one_life())  # the same process, restarted

    assert len(channel_layers["default"].groups[COMMAND_ANSWERS]) == 1
