"""The fast road for the original clients' subscriptions sends the very bytes strawberry's road sends, for every
document and variables a client may send; what it does not plan goes strawberry's road."""

import asyncio
import json

import pytest

from graphql_api import fast_path
from graphql_api.consumers import StartWithoutInitHandler
from graphql_api.schema import schema
from testing.graphql import COMMAND_ID, GET_ACCOUNT, MONEY_TRANSFER, TRANSFER
from transfers.commands import TransferAnswer, TransferMoney

WITHOUT_REFERENCE = MONEY_TRANSFER.replace(", $reference: String", "").replace(", reference: $reference", "")
INLINE = f"""subscription {{ money_transfer(uuid: "{COMMAND_ID}", username: "alice", token: "{"t" * 20}",
  amount: 1234, from: "NL66OPEN0000000000", to: "cash", descr: "lunch") {{ reason success uuid }} }}"""
ALIASED = """subscription Pay($uuid: String!, $username: String!, $token: String!, $amount: Int!, $from: String!,
  $to: String!, $descr: String!) { paid: money_transfer(uuid: $uuid, username: $username, token: $token,
  amount: $amount, from: $from, to: $to, descr: $descr) { ok: success __typename id: uuid reason } }"""
FRAGMENT = """subscription ($uuid: String!, $username: String!, $token: String!, $amount: Int!, $from: String!,
  $to: String!, $descr: String!) { money_transfer(uuid: $uuid, username: $username, token: $token, amount: $amount,
  from: $from, to: $to, descr: $descr) { ...answer } } fragment answer on MoneyTransferResult { uuid success }"""


class Socket:
    def __init__(self):
        self.frames = []

    async def send_json(self, message):
        self.frames.append(json.dumps(message))  # as channels encodes it: the bytes on the wire


def frames(query, variables, operation_name=None):
    handler = StartWithoutInitHandler(None, Socket(), {}, None, schema, False, None)
    asyncio.run(handler.handle_async_results("op-1", query, operation_name, variables))
    return handler.websocket.frames


def both_roads(settings, query, variables, operation_name=None):
    settings.GRAPHQL_FAST_PATH = False
    strawberrys = frames(query, variables, operation_name)
    settings.GRAPHQL_FAST_PATH = True
    return strawberrys, frames(query, variables, operation_name)


FAST = [
    ("the original's test document", MONEY_TRANSFER, TRANSFER, None),
    ("with a reference", MONEY_TRANSFER, TRANSFER | {"reference": "INV-1"}, None),
    ("a null reference", MONEY_TRANSFER, TRANSFER | {"reference": None}, None),
    ("the original's arguments only, as the load test sends", WITHOUT_REFERENCE, TRANSFER, None),
    ("values written in the document, fields in another order", INLINE, None, None),
    ("aliases, __typename and a named operation", ALIASED, TRANSFER, "Pay"),
    ("extra variables", MONEY_TRANSFER, TRANSFER | {"unused": [1, 2]}, None),
]


@pytest.mark.parametrize("answer", [TransferAnswer(success=True), TransferAnswer(success=False, reason="no money")])
@pytest.mark.parametrize(("case", "query", "variables", "operation_name"), FAST, ids=[case[0] for case in FAST])
def test_a_transfer_on_the_fast_road_sends_strawberrys_bytes(
    in_memory, settings, answer, case, query, variables, operation_name
):
    in_memory.answer_with(TransferMoney, answer, answer)

    strawberrys, fast = both_roads(settings, query, variables, operation_name)

    assert fast == strawberrys and len(fast) == 2 and '"type": "data"' in fast[0], case
    assert fast_path.answer_for(query, operation_name, variables) is not None, "it took the fast road"
    assert len(in_memory.sent) == 2  # one command per road


SLOW = [
    ("a float for an Int", MONEY_TRANSFER, TRANSFER | {"amount": 12.0}, None),
    ("true for an Int", MONEY_TRANSFER, TRANSFER | {"amount": True}, None),
    ("an Int too large", MONEY_TRANSFER, TRANSFER | {"amount": 2**31}, None),
    ("a number for a String", MONEY_TRANSFER, TRANSFER | {"token": 7}, None),
    ("null for a String!", MONEY_TRANSFER, TRANSFER | {"to": None}, None),
    ("a variable missing", MONEY_TRANSFER, {k: v for k, v in TRANSFER.items() if k != "descr"}, None),
    ("variables that are not an object", MONEY_TRANSFER, [1, 2], None),
    ("a fragment", FRAGMENT, TRANSFER, None),
    ("an operation name that is not the document's", ALIASED, TRANSFER, "Other"),
    ("a field the result does not have", INLINE.replace("uuid }", "balance }"), None, None),
    ("a syntax error", "subscription { money_transfer(", None, None),
    ("a query", "{ all_last_transactions { iban } }", None, None),
]


@pytest.mark.parametrize(("case", "query", "variables", "operation_name"), SLOW, ids=[case[0] for case in SLOW])
def test_what_the_fast_road_does_not_plan_goes_strawberrys_road(in_memory, case, query, variables, operation_name):
    assert fast_path.answer_for(query, operation_name, variables) is None, case


def test_a_malformed_uuid_falls_back_to_strawberry_which_tells_the_client_as_before(in_memory, settings):
    in_memory.answer_with(TransferMoney, TransferAnswer(success=True))

    strawberrys, fast = both_roads(settings, MONEY_TRANSFER, TRANSFER | {"uuid": "not-a-uuid"})

    assert fast == strawberrys and "is not a valid UUID" in fast[0]
    assert in_memory.sent == []


def test_a_login_refused_before_any_database_is_the_same_bytes_on_both_roads(in_memory, settings):
    variables = {"username": "", "password": "secret-password"}

    strawberrys, fast = both_roads(settings, GET_ACCOUNT, variables)

    assert fast == strawberrys and '"reason": "' in fast[0]
    assert fast_path.answer_for(GET_ACCOUNT, None, variables) is not None
