"""The live transactions feed (a websocket of the pages) under PRIVATE_READS, through the whole ASGI application."""

import asyncio

import pytest
from channels.testing import WebsocketCommunicator

from accounts.iban import COMPANY_IBAN
from bankproject.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

IBAN = "NL07OPEN0689540112"


@pytest.mark.parametrize("query", [f"iban={IBAN}", f"iban={COMPANY_IBAN}", ""])
def test_private_reads_refuse_a_strangers_live_feed(settings, query):
    settings.PRIVATE_READS = True

    async def connect():
        communicator = WebsocketCommunicator(application, f"/ws/transactions/?{query}", headers=[(b"host", b"x")])
        connected, code = await communicator.connect()
        await communicator.disconnect()
        return connected, code

    assert asyncio.run(connect()) == (False, 4403)


def test_by_default_anyone_follows_any_feed():
    async def connect():
        communicator = WebsocketCommunicator(application, f"/ws/transactions/?iban={IBAN}", headers=[(b"host", b"x")])
        connected, _ = await communicator.connect()
        await communicator.disconnect()
        return connected

    assert asyncio.run(connect()) is True
