"""What a stranger can send the API: odd characters, huge values, other origins, bursts of logins.

Every one gets a clear answer, and none stops or stalls the bank for anyone else.
"""

import asyncio
import contextlib
import json
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from testing.graphql import GET_ACCOUNT, MONEY_TRANSFER, TRANSFER_MUTATION, new_user, transfer
from testing.live import PROJECT_ROOT, post, running_app, subscription

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]

GET_ACCOUNT_MUTATION = GET_ACCOUNT.replace("subscription", "mutation", 1)
TRANSACTIONS = "query ($iban: String!) { transactions_by_iban(iban: $iban, max_items: 5) { id descr } }"
FRONTEND = "http://localhost:8181"  # where the original's single-page frontend ran


@pytest.fixture(scope="module")
def app(django_db_setup, django_db_blocker, tmp_path_factory):
    logs = tmp_path_factory.mktemp("hostile-logs")
    with django_db_blocker.unblock(), running_app(logs) as running:
        running.web = running.start_web(
            "web",
            CORS_ALLOWED_ORIGINS=FRONTEND,
            LOGIN_FAILURES_PER_MINUTE="3",
        )
        running.slow_reads_web = running.start_web(
            "slow-reads-web", DJANGO_SETTINGS_MODULE="testing.slow_reads_settings"
        )
        running.hashing_gate = logs / "hashing-gate"
        running.gated_hashing_web = running.start_web(
            "gated-hashing-web",
            DJANGO_SETTINGS_MODULE="testing.slow_hashing_settings",
            HASHING_GATE=str(running.hashing_gate),
            PASSWORD_HASHING_QUEUE="1",
        )
        running.crowded_web = running.start_web(
            "crowded-web", WEBSOCKETS_PER_ADDRESS="3", GRAPHQL_OPERATIONS_PER_WEBSOCKET="2"
        )
        running.limited_web = running.start_web(  # counts this machine's commands, as a deployment counts all
            "limited-web",
            COMMAND_LIMIT_EXEMPT_ADDRESSES="192.0.2.1",
            COMMANDS_PER_MINUTE_PER_ADDRESS="6",
            COMMANDS_PER_MINUTE_PER_ACCOUNT="3",
        )
        yield running


@pytest.fixture
def customer(app):
    return new_user(app.web)


def mutation(web, **overrides):
    username, account = overrides.pop("customer")
    variables = {
        "uuid": str(uuid.uuid4()),
        "username": username,
        "token": account["token"],
        "amount": 100,
        "from": "cash",
        "to": account["iban"],
        "descr": "test",
        **overrides,
    }
    status, body = post(web, TRANSFER_MUTATION, variables)
    assert status == 200, body
    return body["data"]["money_transfer"]


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"descr": "rent\u0000"}, "description is invalid"),  # once stopped the command handler for good
        ({"descr": "x" * 141}, "description is invalid"),
        ({"to": "N" * 300}, "to is invalid"),  # once stopped the projector for good
        ({"to": "NL00OPEN0000000001"}, "to is invalid"),
        ({"from": "cash\u0007"}, "from is invalid"),
        ({"username": "\u0000"}, "username is invalid"),
    ],
)
def test_hostile_text_gets_the_reason_at_once_and_the_bank_goes_on(app, customer, overrides, reason):
    outcome = mutation(app.web, customer=customer, **overrides)

    assert (outcome["success"], outcome["reason"]) == (False, reason)
    assert mutation(app.web, customer=customer)["success"] is True


def test_an_iban_typed_with_spaces_and_in_lower_case_reaches_the_account(app, customer):
    username, account = customer
    spaced = " ".join(account["iban"][i : i + 4] for i in range(0, 18, 4)).lower()

    assert mutation(app.web, customer=customer, to=spaced)["success"] is True


def test_a_well_formed_iban_of_ours_that_is_no_account_is_refused_and_no_money_leaves(app, customer):
    from accounts.iban import iban_for

    outcome = mutation(app.web, customer=customer, **{"from": customer[1]["iban"], "to": iban_for("0999999999")})

    assert outcome["reason"] == "to is invalid"


def test_a_query_with_a_nul_in_it_gets_a_reason_instead_of_failing(app):
    status, body = post(app.web, TRANSACTIONS, {"iban": "NL\u0000"})

    assert status == 200 and body["data"] == {"transactions_by_iban": None}
    assert [error["message"] for error in body["errors"]] == ["iban is invalid"]


def test_the_company_account_cannot_be_drained_with_the_originals_published_token(app, customer, company_account):
    """The original seeded it with twenty zeros, which its published set-up scripts print."""
    outcome = mutation(app.web, customer=customer, **{"from": "NL66OPEN0000000000", "token": "0" * 20})
    outcome_max = mutation(
        app.web, customer=customer, amount=2**31 - 1, **{"from": "NL66OPEN0000000000", "token": "0" * 20}
    )

    assert (outcome["success"], outcome["reason"]) == (False, "invalid token")
    assert (outcome_max["success"], outcome_max["reason"]) == (False, "invalid token")


def balance_of(web, iban):
    query = "query ($iban: String!) { transactions_by_iban(iban: $iban, max_items: 1) { new_balance } }"
    rows = post(web, query, {"iban": iban})[1]["data"]["transactions_by_iban"]
    return rows[0]["new_balance"] if rows else None


@pytest.mark.parametrize(
    "spell",
    [
        lambda iban: "-".join(iban[i : i + 4] for i in range(0, 18, 4)),
        lambda iban: ".".join(iban[i : i + 4] for i in range(0, 18, 4)),
        lambda iban: f"IBAN {iban}",
        lambda iban: f"IBAN: {iban.lower()}",
        lambda iban: f"\u200b{iban}",  # a zero-width space, as copied from a web page
        lambda iban: "".join(chr(ord(c) + 0xFEE0) for c in iban),  # full-width letters and digits
        lambda iban: "\u00a0".join(iban[i : i + 4] for i in range(0, 18, 4)),  # no-break spaces
        lambda iban: "_".join(iban[i : i + 4] for i in range(0, 18, 4)),
        lambda iban: ":".join(iban[i : i + 4] for i in range(0, 18, 4)),
        lambda iban: iban.replace("OPEN", "O\u0420EN"),  # a Cyrillic capital ER, which looks like a Latin P
        lambda iban: iban.replace("OPEN", "\u039fPEN"),  # a Greek capital omicron
    ],
    ids=[
        "dashes",
        "dots",
        "prefix",
        "prefix-lower",
        "zero-width-space",
        "full-width",
        "no-break-space",
        "underscores",
        "colons",
        "cyrillic-er",
        "greek-omicron",
    ],
)
def test_an_iban_written_as_people_write_it_is_credited_and_no_money_leaves_the_bank(app, spell):
    """These spellings were once taken as another bank's account: the payer was debited, nobody credited."""
    payer, payee = new_user(app.web), new_user(app.web)
    assert mutation(app.web, customer=payer, amount=5_000)["success"] is True

    outcome = mutation(
        app.web, customer=payer, amount=1_234, **{"from": payer[1]["iban"], "to": spell(payee[1]["iban"])}
    )

    assert (outcome["success"], outcome["reason"]) == (True, None)
    assert balance_of(app.web, payee[1]["iban"]) == "€12,34"
    assert balance_of(app.web, payer[1]["iban"]) == "€37,66"


def test_another_banks_iban_must_have_the_right_check_digits_and_a_name_is_free_text(app, customer):
    def pay(to):
        return mutation(app.web, customer=customer, amount=100, **{"from": customer[1]["iban"], "to": to})

    assert mutation(app.web, customer=customer, amount=5_000)["success"] is True
    assert pay("DE89 3704 0044 0532 0130 01")["reason"] == "to is invalid"  # one digit off
    assert pay("GB29OPEN60161331926819")["reason"] == "to is invalid"  # our bank code, but not one of ours
    assert pay("DE89 3704 0044 0532 0130 00")["success"] is True  # leaves the bank, as the original did
    assert pay("Albert Heijn BV")["success"] is True  # another bank's customer by name (see docs/design.md)


def test_two_waits_for_one_command_both_get_its_answer(app, customer):
    """A double click, or two tabs: the second wait once took the answer from the first, which timed out."""
    command_id = str(uuid.uuid4())
    answers = []

    def send():
        answers.append(mutation(app.web, customer=customer, uuid=command_id, amount=700))

    both = [threading.Thread(target=send) for _ in range(2)]
    for thread in both:
        thread.start()
    for thread in both:
        thread.join(30)

    assert answers == [{"uuid": command_id, "success": True, "reason": None}] * 2
    assert balance_of(app.web, customer[1]["iban"]) == "€7,00"


ALERT_QUERIES = [
    "query ($iban: String!, $token: String!) { alerts(iban: $iban, token: $token, max_items: 5) { id } }",
    "query ($iban: String!, $token: String!) { alert_rules(iban: $iban, token: $token) { id } }",
]


@pytest.mark.parametrize("query", ALERT_QUERIES, ids=["alerts", "alert_rules"])
@pytest.mark.parametrize("argument", ["iban", "token"])
def test_a_nul_in_an_argument_of_the_alert_queries_is_refused_with_a_reason(app, customer, query, argument):
    """Once it reached PostgreSQL and came back as "internal error"."""
    variables = {"iban": customer[1]["iban"], "token": customer[1]["token"], argument: "NL\u0000"}

    status, body = post(app.web, query, variables)

    assert status == 200 and [error["message"] for error in body["errors"]] == [f"{argument} is invalid"]


def test_a_rule_with_a_nul_iban_or_a_description_too_long_is_refused_at_the_edge(app, customer):
    add = """mutation ($iban: String!, $token: String!, $kind: AlertKind!, $threshold: Int, $text: String) {
      add_alert_rule(iban: $iban, token: $token, kind: $kind, threshold: $threshold, descr_includes: $text) {
        id reason } }"""
    base = {"iban": customer[1]["iban"], "token": customer[1]["token"], "kind": "DEBIT_ABOVE", "threshold": 100}

    def reason(**overrides):
        return post(app.web, add, {**base, **overrides})[1]["data"]["add_alert_rule"]["reason"]

    assert reason(iban="NL\u0000") == "iban is invalid"
    assert reason(token="1\u0000") == "invalid token"
    assert reason(text="x" * 141) == "descr_includes is invalid"
    assert reason(kind="DESCRIPTION_MATCHES", text="x" * 141) == "descr_includes is invalid"
    assert reason() is None


def test_twenty_aliases_of_every_accounts_last_transaction_are_refused_and_its_pages_are_served(app):
    """One anonymous request once ran twenty uncapped GROUP BYs over the whole table on the shared thread."""
    many = "{ " + " ".join(f"a{n}: all_last_transactions {{ id }}" for n in range(20)) + " }"

    status, body = post(app.web, many)

    assert status == 200 and "ask for 20000 items; 5000 at most" in body["errors"][0]["message"]
    for _ in range(3):
        assert mutation(app.web, customer=new_user(app.web))["success"] is True
    page = "query ($after: String) { all_last_transactions(max_items: 2, after_iban: $after) { iban } }"
    first = post(app.web, page)[1]["data"]["all_last_transactions"]
    second = post(app.web, page, {"after": first[-1]["iban"]})[1]["data"]["all_last_transactions"]
    assert len(first) == 2 and first[0]["iban"] < first[1]["iban"] < second[0]["iban"]


def test_a_negative_number_of_items_is_no_items_in_every_list(app, customer):
    """Found by a stranger's walk: all_last_transactions(max_items: -5) answered "internal error"."""
    owner = f'iban: "{customer[1]["iban"]}", token: "{customer[1]["token"]}"'
    query = f"""{{ all_last_transactions(max_items: -5) {{ id }} transactions_by_iban(iban: "x", max_items: -1) {{ id }}
               alerts({owner}, max_items: -3) {{ id }} }}"""

    assert post(app.web, query) == (
        200,
        {"data": {"all_last_transactions": [], "transactions_by_iban": [], "alerts": []}},
    )


def test_a_slow_read_holds_up_only_itself(app, customer):
    """Reads once all waited on one thread of the web process: here a read sleeps in PostgreSQL meanwhile."""
    slow = threading.Thread(target=post, args=(app.slow_reads_web, TRANSACTIONS, {"iban": "slow"}))
    slow.start()
    try:
        time.sleep(0.5)  # the slow read is running now
        started = time.monotonic()
        status, body = post(app.slow_reads_web, TRANSACTIONS, {"iban": customer[1]["iban"]}, timeout=10)
        assert status == 200 and "errors" not in body and time.monotonic() - started < 2
    finally:
        slow.join(30)


def test_a_body_larger_than_any_operation_is_refused_before_it_is_read(app):
    body = json.dumps({"query": "{ __typename }", "padding": "x" * 200_000}).encode()
    request = urllib.request.Request(app.web + "/graphql", body, {"Content-Type": "application/json"})

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)

    assert refused.value.code == 413
    assert post(app.web, "{ __typename }")[0] == 200


def test_a_websocket_frame_larger_than_any_operation_closes_the_socket(app):
    with connect(app.web.replace("http://", "ws://") + "/graphql-ws", subprotocols=["graphql-ws"]) as websocket:
        websocket.send(json.dumps({"type": "start", "id": "1", "payload": {"query": "x" * 200_000}}))
        with pytest.raises(ConnectionClosed) as closed:
            websocket.recv(10)

    assert closed.value.rcvd.code == 4413


@pytest.mark.parametrize("path", ["/graphql-ws", "/ws/transactions/"])
def test_a_page_on_another_origin_cannot_open_a_websocket_unless_allowed(app, path):
    url = app.web.replace("http://", "ws://") + path

    with pytest.raises(InvalidStatus) as refused:
        connect(url, origin="http://evil.example", subprotocols=["graphql-ws"], open_timeout=10)
    assert refused.value.response.status_code == 403

    for origin in (FRONTEND, app.web, None):  # the allowed frontend, our own pages, a client that is no browser
        with connect(url, origin=origin, subprotocols=["graphql-ws"], open_timeout=10):
            pass


def test_cors_lets_the_allowed_frontend_call_graphql_and_no_one_else(app):
    def preflight(origin):
        request = urllib.request.Request(
            app.web + "/graphql",
            method="OPTIONS",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.headers.get("Access-Control-Allow-Origin")
        except urllib.error.HTTPError as error:
            return error.headers.get("Access-Control-Allow-Origin")

    assert preflight(FRONTEND) == FRONTEND
    assert preflight("http://evil.example") is None


def test_wrong_passwords_lock_a_username_but_logging_in_often_does_not(app):
    """Every attempt once counted against the username: anyone who knew a name could lock its owner out."""
    username = f"limited-{uuid.uuid4().hex[:8]}"

    def reason(password, source="127.0.0.1"):
        variables = {"username": username, "password": password}
        return post(app.web, GET_ACCOUNT_MUTATION, variables, source=source)[1]["data"]["get_account"]["reason"]

    assert [reason("secret-password") for _ in range(5)] == [None] * 5  # the test's web process allows 3 failures
    assert [reason("wrong-password") for _ in range(3)] == ["incorrect password"] * 3
    assert reason("secret-password") == "too many login attempts; try again in a minute"


def test_a_stranger_from_another_address_cannot_lock_the_owner_out(app):
    """A stranger's wrong passwords once locked the owner out for a minute: ten guesses from anywhere did."""
    username = f"targeted-{uuid.uuid4().hex[:8]}"

    def reason(password, source):
        variables = {"username": username, "password": password}
        return post(app.web, GET_ACCOUNT_MUTATION, variables, source=source)[1]["data"]["get_account"]["reason"]

    assert reason("secret-password", "127.0.0.1") is None
    guesses = [reason("a-guess-123", "127.0.0.2") for _ in range(4)]  # the test's web process allows 3 failures

    assert guesses == ["incorrect password"] * 3 + ["too many login attempts; try again in a minute"]
    assert reason("secret-password", "127.0.0.1") is None


def test_a_password_being_hashed_never_holds_up_reads_and_logins_beyond_the_queue_are_told_busy(app, customer):
    """Hashing once ran on the thread every database read of the process shares: a burst of logins stalled
    every customer; and logins queued without bound. Here the hash waits at a gate (the queue holds one)."""
    login = threading.Thread(
        target=post,
        args=(
            app.gated_hashing_web,
            GET_ACCOUNT_MUTATION,
            {"username": f"gated-{uuid.uuid4().hex[:8]}", "password": "secret-password"},
        ),
    )
    login.start()
    try:
        time.sleep(0.5)  # the login is at the gate now
        status, body = post(app.gated_hashing_web, TRANSACTIONS, {"iban": customer[1]["iban"]}, timeout=10)
        assert status == 200 and "errors" not in body
        status, body = post(
            app.gated_hashing_web,
            GET_ACCOUNT_MUTATION,
            {"username": f"queued-{uuid.uuid4().hex[:8]}", "password": "secret-password"},
            timeout=10,
        )
        assert body["data"]["get_account"]["reason"] == "the bank is busy with other logins; try again in a moment"
    finally:
        app.hashing_gate.touch()
        login.join(30)


def fragment_bomb(fragments):
    """About 1 KB: each fragment spreads the one before twice, so the query asks for 2^fragments fields."""
    chain = [f"fragment F{n} on QueryRoot {{ ...F{n - 1} ...F{n - 1} }}" for n in range(1, fragments + 1)]
    return " ".join([f"query Bomb {{ ...F{fragments} }}", "fragment F0 on QueryRoot { __typename }", *chain])


def introspection_twenty_times():
    """Twenty aliases of the whole schema: 1.5 KB in, 5.4 MB out, once outside every budget."""
    fields = "name kind fields { name type { name kind ofType { name kind ofType { name kind } } } }"
    aliases = " ".join(f"s{n}: __schema {{ types {{ ...T }} }}" for n in range(20))
    return f"query Introspect {{ {aliases} }} fragment T on __Type {{ {fields} }}"


@pytest.mark.parametrize("query", [fragment_bomb(40), introspection_twenty_times()], ids=["fragments", "introspection"])
def test_a_small_query_that_asks_for_everything_is_refused_at_once_and_health_answers_meanwhile(app, query):
    """Validation once walked every spread of every fragment again: 20 fragments took 4.4 s of the event loop
    that serves every connection of the process, 40 would have taken weeks; and over GET an <img> can send it."""
    assert len(query) < 2048
    answers = {}

    def ask(how):
        started = time.monotonic()
        if how == "GET":
            url = f"{app.web}/graphql?" + urllib.parse.urlencode({"query": query})
            with urllib.request.urlopen(
                urllib.request.Request(url, headers={"Accept": "application/json"}), timeout=60
            ) as r:
                body = json.loads(r.read())
        else:
            body = post(app.web, query, timeout=60)[1]
        answers[how] = (time.monotonic() - started, body)

    askers = [threading.Thread(target=ask, args=(how,)) for how in ("GET", "POST")]
    for asker in askers:
        asker.start()
    started = time.monotonic()
    try:
        with urllib.request.urlopen(f"{app.web}/health/?format=json", timeout=10) as response:
            response.read()
    except urllib.error.HTTPError:
        pass  # unhealthy is an answer too: the test's consumers are not the monitored groups
    health_took = time.monotonic() - started
    for asker in askers:
        asker.join(60)

    for how, (took, body) in answers.items():
        assert took < 1 and body.get("data") is None, how
        assert "at most" in body["errors"][0]["message"], how
    assert health_took < 1


def test_a_query_past_its_deadline_resolves_no_more_fields(settings):
    from graphql_api.schema import schema

    settings.GRAPHQL_DEADLINE_SECONDS = 0
    result = schema.execute_sync("{ __typename a: __typename }")

    assert "this query took more than 0 s; ask for less" in str(result.errors)


STREAM_ALL = "subscription { stream_transactions { id } }"


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
def test_one_websocket_runs_only_so_many_operations_at_once(app, protocol):
    """One anonymous socket once held 100 streams of every transaction: one client could saturate a process."""
    start = "subscribe" if protocol == "graphql-transport-ws" else "start"
    with connect(app.crowded_web.replace("http://", "ws://") + "/graphql-ws", subprotocols=[protocol]) as websocket:
        websocket.send(json.dumps({"type": "connection_init"}))
        assert json.loads(websocket.recv(10))["type"] == "connection_ack"
        for n in range(3):  # the crowded web process allows 2
            websocket.send(json.dumps({"type": start, "id": str(n), "payload": {"query": STREAM_ALL}}))
        refused = json.loads(websocket.recv(10))

    assert refused["type"] == "error" and refused["id"] == "2"
    assert "Subscription limit reached" in json.dumps(refused["payload"])


def test_one_address_holds_only_so_many_websockets_and_another_is_not_held_up(app):
    """Sockets were once unbounded per address: one client could hold a web process's event loop."""
    ws_url = app.crowded_web.replace("http://", "ws://") + "/graphql-ws"
    sockets = [connect(ws_url, subprotocols=["graphql-ws"]) for _ in range(3)]  # the crowded web allows 3
    try:
        with connect(ws_url, subprotocols=["graphql-ws"]) as fourth:
            told = json.loads(fourth.recv(10))
            with pytest.raises(ConnectionClosed) as closed:
                fourth.recv(10)
        assert told == {"type": "connection_error", "payload": {"message": "3 websockets from one address at most"}}
        assert closed.value.rcvd.code == 4429
        with connect(ws_url, subprotocols=["graphql-ws"], source_address=("127.0.0.2", 0)) as another:
            another.send(json.dumps({"type": "connection_init"}))
            assert json.loads(another.recv(10))["type"] == "connection_ack"
    finally:
        for websocket in sockets:
            websocket.close()
    assert _opens_again(app.crowded_web, within=10)  # and the address again, once its sockets are closed


def _opens_again(url: str, within: float) -> bool:
    """The web counts a socket closed once its consumer has ended, a moment after the close handshake."""
    deadline = time.monotonic() + within
    while True:
        try:
            with subscription(url, STREAM_ALL):
                return True
        except (ConnectionClosed, AssertionError):  # told "3 websockets from one address at most" meanwhile
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def test_a_websocket_client_that_stops_reading_is_closed_within_twenty_seconds(app):
    """What a client does not read piles up in the web process until the socket closes: with daphne's
    defaults a reader that stopped was kept for 50 s; the Procfile's pings close it within 20."""
    host, port = urllib.parse.urlsplit(app.web).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as stopped:
        stopped.sendall(
            b"GET /graphql-ws HTTP/1.1\r\nHost: " + host.encode() + b"\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-ws\r\n\r\n"
        )
        assert stopped.recv(4096).startswith(b"HTTP/1.1 101")
        opened = time.monotonic()
        stopped.settimeout(40)
        with contextlib.suppress(ConnectionResetError):  # the end: a close frame and EOF, or a reset
            while stopped.recv(4096):  # the client sends nothing and answers no ping
                pass
        closed_after = time.monotonic() - opened

    assert closed_after < 25


@pytest.mark.parametrize(
    "body",
    [
        b'{"query": "query ($n: Int!) { all_last_transactions(max_items: $n) { id } }", "variables": {"n": '
        + b"9" * 5000
        + b"}}",
        b'{"query": "{ __typename }", "variables": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",
    ],
    ids=["a number of 5,000 digits", "nesting 20,000 deep"],
)
def test_json_python_cannot_read_is_a_bad_request(app, body):
    """Python's json refuses both with errors other than JSONDecodeError: they were answered with 500."""
    request = urllib.request.Request(app.web + "/graphql", body, {"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)

    assert refused.value.code == 400
    assert b"Unable to parse request body as JSON" in refused.value.read()


def test_a_batch_of_operations_in_one_request_is_refused(app):
    """A JSON list of operations would carry commands past the 5 a mutation may send: batching stays off."""
    batch = [{"query": cash_deposits(new_user(app.web), 5)} for _ in range(2)]
    request = urllib.request.Request(
        app.web + "/graphql", json.dumps(batch).encode(), {"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)

    assert refused.value.code == 400
    assert b"Batching is not enabled" in refused.value.read()


def test_graphql_errors_never_show_the_database_or_the_registry(monkeypatch, caplog):
    from django.db import OperationalError

    from graphql_api.schema import schema

    def broken(*args, **kwargs):
        raise OperationalError('connection to server at "10.1.2.3", port 5432 failed: password authentication failed')

    monkeypatch.setattr("graphql_api.queries.get_transaction", broken)

    result = asyncio.run(schema.execute("{ transaction_by_id(id: 1) { id } }"))

    (error,) = result.errors
    assert error.message.startswith("internal error (reference ") and "10.1.2.3" not in error.message
    reference = error.message.removeprefix("internal error (reference ").rstrip(")")
    assert reference in caplog.text and "password authentication failed" in caplog.text


def test_a_process_started_as_it_is_runs_without_debug_and_with_a_secret_key_of_its_checkout():
    """DEBUG once defaulted to on, so the cluster profile ran with it unless told; the key was a known one."""
    show = "from django.conf import settings; print(settings.DEBUG, settings.SECRET_KEY)"
    env = {"PATH": "/usr/bin:/bin"}  # neither DJANGO_DEBUG nor DJANGO_SECRET_KEY
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", show], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )

    debug, key = result.stdout.split()[-2:]
    assert (debug, key) == ("False", (PROJECT_ROOT / ".stack" / "secret-key").read_text().strip())
    assert len(key) >= 50


def test_a_subscription_still_works_for_a_legacy_client_without_an_origin(app):
    with subscription(app.web, GET_ACCOUNT, {"username": f"u-{uuid.uuid4().hex[:8]}", "password": "pw-pw-pw-pw"}) as r:
        assert r()["data"]["get_account"]["iban"]


def a_loopback_address_of_this_run():
    """An address no earlier run counted this minute (the counts outlive a run, in the test stack's Redis)."""
    return "127." + ".".join(str(random.randint(1, 254)) for _ in range(3))


def cash_deposits(customer, times):
    """One request of `times` aliased 1-cent cash deposits to `customer`, carried out one after the other."""
    username, account = customer
    deposits = (
        f'd{n}: money_transfer(uuid: "{uuid.uuid4()}", username: "{username}", token: "{account["token"]}", '
        f'amount: 1, from: "cash", to: "{account["iban"]}", descr: "spam") {{ success reason }}'
        for n in range(times)
    )
    return "mutation { " + " ".join(deposits) + " }"


def test_an_address_and_an_account_send_only_so_many_commands_a_minute(app):
    """Commands were once unlimited: a stranger could add ledger rows and records that the topics keep forever,
    as fast as the bank could take them. The limited web allows 6 a minute from an address, 3 for an account."""
    stranger, another = a_loopback_address_of_this_run(), a_loopback_address_of_this_run()
    spammed, other, third = new_user(app.web), new_user(app.web), new_user(app.web)  # on a web that counts none

    status, body = post(app.limited_web, cash_deposits(spammed, 4), source=stranger)
    assert status == 200, body
    told = [answer["reason"] for answer in body["data"].values()]
    assert told == [None, None, None, "too many commands for this account; try again in a minute"]

    status, body = post(app.limited_web, cash_deposits(other, 2), source=stranger)  # its 5th and 6th
    assert [answer["reason"] for answer in body["data"].values()] == [None, None]
    username, account = other
    variables = {"uuid": str(uuid.uuid4()), "username": username, "token": account["token"], "amount": 1}
    variables |= {"from": "cash", "to": account["iban"], "descr": "over the websocket"}
    with subscription(app.limited_web, MONEY_TRANSFER, variables, source=stranger) as receive:
        seventh = receive()["data"]["money_transfer"]
    assert seventh["reason"] == "too many commands from your address; try again in a minute"

    status, body = post(app.limited_web, cash_deposits(third, 1), source=another)  # another address is served
    assert body["data"]["d0"] == {"success": True, "reason": None}
    status, body = post(app.limited_web, cash_deposits(spammed, 1), source=another)  # an account everywhere
    assert body["data"]["d0"]["reason"] == "too many commands for this account; try again in a minute"
    assert balance_of(app.web, spammed[1]["iban"]) == "€0,03"


def test_the_customer_can_still_transfer_after_all_of_this(app, customer):
    username, account = customer
    assert transfer(app.web, username, account["token"], 100, "cash", account["iban"])["success"] is True
