import asyncio
import uuid

import pytest
from channels.layers import channel_layers

from transfers.live import command_answers
from transfers.notifications import COMMAND_ANSWERS, commands_answered


@pytest.fixture
def in_memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


def test_each_waiter_gets_the_answer_to_its_own_command(in_memory_layer):
    mine, theirs = uuid.uuid4(), uuid.uuid4()

    async def scenario():
        async with command_answers().waiting_for(mine) as answer:
            ((group, message),) = commands_answered({theirs: {"success": False}, mine: {"success": True}})
            await channel_layers["default"].group_send(group, message)
            return await asyncio.wait_for(answer, 5), group

    assert asyncio.run(scenario()) == ({"success": True}, COMMAND_ANSWERS)


def test_an_answer_nobody_waits_for_any_more_does_not_disturb_the_next(in_memory_layer):
    given_up, next_one = uuid.uuid4(), uuid.uuid4()

    async def scenario():
        layer = channel_layers["default"]
        async with command_answers().waiting_for(given_up):
            pass  # the caller timed out before the answer came
        for group, message in commands_answered({given_up: {"late": True}}):
            await layer.group_send(group, message)
        async with command_answers().waiting_for(next_one) as answer:
            for group, message in commands_answered({next_one: {"late": False}}):
                await layer.group_send(group, message)
            return await asyncio.wait_for(answer, 5)

    assert asyncio.run(scenario()) == {"late": False}


def test_the_answers_of_a_closed_event_loop_are_let_go(in_memory_layer):
    from transfers import live

    async def use():
        command_answers()

    for _ in range(3):
        asyncio.run(use())

    assert len(live._per_loop) == 1  # only the last loop's, until the next call finds it closed
