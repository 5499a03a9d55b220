"""The original's GraphQL operations, and a customer made and served through them: for tests on a live stack."""

from __future__ import annotations

import uuid

from testing.live import post, subscription

GET_ACCOUNT = """subscription ($username: String!, $password: String!) {
  get_account(username: $username, password: $password) { iban token reason } }"""
MONEY_TRANSFER = """subscription ($uuid: String!, $username: String!, $token: String!, $amount: Int!,
  $from: String!, $to: String!, $descr: String!, $reference: String) {
  money_transfer(uuid: $uuid, username: $username, token: $token, amount: $amount, from: $from, to: $to,
                 descr: $descr, reference: $reference) { uuid success reason } }"""
TRANSFER_MUTATION = MONEY_TRANSFER.replace("subscription", "mutation", 1)
STREAM = """subscription ($iban: String, $min: Int, $max: Int, $direction: dtype, $text: String) {
  stream_transactions(iban: $iban, min_amount: $min, max_amount: $max, direction: $direction,
                      descr_includes: $text) { id iban changed_by new_balance from_to descr direction } }"""

# A transfer's variables as a client sends them (the IBAN as a person types it), for tests on the in-memory bus.
COMMAND_ID = str(uuid.uuid4())
TRANSFER = {
    "uuid": COMMAND_ID,
    "username": "alice",
    "token": "t" * 20,
    "amount": 1_234,
    "from": "nl66 open 0000 0000 00",
    "to": "cash",
    "descr": "lunch é 🙂",
}


def new_user(web, protocol="graphql-transport-ws", init=True, username=None):
    username = username or f"user-{uuid.uuid4().hex[:8]}"
    with subscription(
        web, GET_ACCOUNT, {"username": username, "password": "secret-password"}, protocol=protocol, init=init
    ) as receive:
        account = receive()["data"]["get_account"]
    assert account["reason"] is None, account
    return username, account


def transfer(
    web, username, token, amount, source, target, descr="test", command_id=None, mutation=False, reference=None
):
    variables = {
        "uuid": command_id or str(uuid.uuid4()),
        "username": username,
        "token": token,
        "amount": amount,
        "from": source,
        "to": target,
        "descr": descr,
    }
    if reference is not None:
        variables["reference"] = reference
    if mutation:
        status, body = post(web, TRANSFER_MUTATION, variables)
        assert status == 200
        return body["data"]["money_transfer"]
    with subscription(web, MONEY_TRANSFER, variables) as receive:
        return receive()["data"]["money_transfer"]
