"""The command bus's answers: each waiter gets its own, typed as the domain's answers."""

import asyncio
import contextlib
import uuid

import pytest
from channels.layers import channel_layers

from accounts.commands import AccountAnswer
from banking.answers import answers_told
from kafka_bridge import bus
from kafka_bridge.bus import command_answers
from kernel.live import listening
from transfers.commands import TransferAnswer


@pytest.fixture
def in_memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


async def tell(answers):
    ((group, message),) = answers_told(answers)
    await channel_layers["default"].group_send(group, message)


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


@pytest.mark.integration
def test_answers_arrive_while_other_listeners_come_and_go_on_redis():
    """Live feeds and subscriptions stop listening all the time (each cancels a receive): an answer must
    still reach its waiter at once, not after a blocking pop times out or never."""
    channel_layers.backends.clear()  # the configured layer, on the test stack's Redis

    async def scenario():
        async def come_and_go():
            while True:
                async with listening("transactions.elsewhere") as receive:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(receive(), 0.01)

        others = [asyncio.create_task(come_and_go()) for _ in range(20)]
        late = 0
        for _ in range(40):
            command = uuid.uuid4()
            async with command_answers().waiting_for(command) as answer:
                await tell({command: TransferAnswer(success=True)})
                try:
                    await asyncio.wait_for(answer, 3)
                except TimeoutError:
                    late += 1
        for task in others:
            task.cancel()
        await asyncio.wait(others, timeout=5)  # how the listeners end is not what this test is about
        return late

    assert asyncio.run(asyncio.wait_for(scenario(), 150)) == 0
