"""The GraphQL API end to end: real web servers, command handler and projector on the test stack."""

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from accounts.access import PRIVATE_ACCOUNT
from accounts.models import Login
from testing.graphql import GET_ACCOUNT, MONEY_TRANSFER, STREAM, TRANSFER_MUTATION, new_user, transfer
from testing.live import post, running_app, subscription
from transfers.models import Transaction

SECRET_KEY = "a-secret-for-the-tests"
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]


@pytest.fixture(scope="module")
def app(django_db_setup, django_db_blocker, tmp_path_factory):
    # Every process of a deployment shares its secret key (sessions, signed links, sealed answers), as here.
    logs = tmp_path_factory.mktemp("app-logs")
    with django_db_blocker.unblock(), running_app(logs, DJANGO_SECRET_KEY=SECRET_KEY) as running:
        running.web = running.start_web("web-1")
        running.other_web = running.start_web("web-2", DJANGO_DEBUG="false")  # as in production
        running.impatient_web = running.start_web("web-3", COMMAND_ANSWER_TIMEOUT="1")
        yield running


def test_get_account_creates_an_account_and_logging_in_again_gives_the_same_one(app):
    username, account = new_user(app.web)

    with subscription(app.other_web, GET_ACCOUNT, {"username": username, "password": "secret-password"}) as receive:
        again = receive()["data"]["get_account"]

    assert again == account
    assert account["iban"].startswith("NL") and len(account["token"]) == 20


def test_the_legacy_protocol_works_without_connection_init_as_the_original_client_sends_it(app):
    username, account = new_user(app.web, protocol="graphql-ws", init=False)

    assert account["iban"]


def test_subscriptions_also_work_where_graphiql_looks_for_them(app):
    username = f"user-{uuid.uuid4().hex[:8]}"

    with subscription(
        app.web, GET_ACCOUNT, {"username": username, "password": "secret-password"}, path="/graphql"
    ) as receive:
        assert receive()["data"]["get_account"]["iban"]


def test_a_subscription_sent_over_plain_http_is_refused_with_a_reason(app):
    username = f"user-{uuid.uuid4().hex[:8]}"

    status, body = post(app.web, GET_ACCOUNT, {"username": username, "password": "secret-password"})

    assert status == 200 and body["data"] is None
    assert "a subscription needs a websocket" in body["errors"][0]["message"]


def test_a_websocket_to_an_unknown_path_is_refused_cleanly(app):
    with pytest.raises(InvalidStatus) as refused:
        connect(app.web.replace("http://", "ws://") + "/no-such-socket", open_timeout=10)

    assert refused.value.response.status_code == 403
    assert post(app.web, "{ __typename }") == (200, {"data": {"__typename": "QueryRoot"}})


def test_a_wrong_password_is_refused_with_the_original_reason(app):
    username, _ = new_user(app.web)

    with subscription(app.web, GET_ACCOUNT, {"username": username, "password": "wrong-password"}) as receive:
        assert receive()["data"]["get_account"] == {"iban": None, "token": None, "reason": "incorrect password"}


def test_short_usernames_and_passwords_are_refused(app):
    with subscription(app.web, GET_ACCOUNT, {"username": "short", "password": "secret-password"}) as receive:
        assert receive()["data"]["get_account"]["reason"] == "username needs at least 8 characters"


def test_a_deposit_shows_up_newest_first_in_the_original_money_format(app):
    username, account = new_user(app.web)
    iban = account["iban"]

    assert transfer(app.web, username, account["token"], 1000, "cash", iban)["success"] is True
    assert transfer(app.web, username, account["token"], 123456, "cash", iban)["success"] is True

    query = """query ($iban: String!) {
      transactions_by_iban(iban: $iban, max_items: 5) { iban changed_by new_balance direction from_to } }"""
    for _ in range(50):
        status, body = post(app.web, query, {"iban": iban})
        if len(body["data"]["transactions_by_iban"]) == 2:
            break
    assert body["data"]["transactions_by_iban"] == [
        {"iban": iban, "changed_by": "€1.234,56", "new_balance": "€1.244,56", "direction": "CREDIT", "from_to": "cash"},
        {"iban": iban, "changed_by": "€10,00", "new_balance": "€10,00", "direction": "CREDIT", "from_to": "cash"},
    ]


def test_a_refused_transfer_gives_its_reason_and_a_repeat_gives_the_same_answer(app):
    username, account = new_user(app.web)
    command_id = str(uuid.uuid4()).upper()  # matched case-insensitively, unlike the original

    first = transfer(app.web, username, account["token"], 100, account["iban"], "cash", command_id=command_id)
    again = transfer(app.other_web, username, account["token"], 100, account["iban"], "cash", command_id=command_id)

    assert first == again == {"uuid": command_id, "success": True, "reason": None}
    refused = transfer(app.web, username, "0" * 20, 100, account["iban"], "cash")
    assert (refused["success"], refused["reason"]) == (False, "invalid token")


def test_the_mutation_returns_the_outcome(app):
    username, account = new_user(app.web)

    command_id = str(uuid.uuid4())

    outcome = transfer(
        app.web, username, account["token"], 0, "cash", account["iban"], command_id=command_id, mutation=True
    )

    assert outcome == {"uuid": command_id, "success": False, "reason": "amount must be positive"}


def test_a_malformed_uuid_is_an_error_not_a_hang(app):
    variables = {
        "uuid": "not-a-uuid",
        "username": "x",
        "token": "t",
        "amount": 1,
        "from": "cash",
        "to": "NL66OPEN0000000000",
        "descr": "",
    }
    with subscription(app.web, MONEY_TRANSFER, variables) as receive:
        message = receive(10)
    assert "not a valid UUID" in str(message["errors"])

    status, body = post(app.web, TRANSFER_MUTATION, variables)
    assert status == 200 and "not a valid UUID" in body["errors"][0]["message"]


def test_the_mutation_times_out_with_a_reason_when_the_handler_does_not_answer(app):
    username, account = new_user(app.web)
    app.pause("handler")
    try:
        outcome = transfer(app.impatient_web, username, account["token"], 100, "cash", account["iban"], mutation=True)
    finally:
        app.resume("handler")

    assert outcome["success"] is False
    assert outcome["reason"].startswith("no answer from the bank within 1 seconds; it may still be carried out")
    assert "same uuid" in outcome["reason"]


def test_stream_filters_work_on_absolute_amounts_direction_and_text(app):
    username, account = new_user(app.web)
    iban, token = account["iban"], account["token"]
    variables = {"iban": iban, "min": 500, "max": 5000, "direction": "DEBIT", "text": "RENT"}

    with subscription(app.other_web, STREAM, variables) as receive:
        transfer(app.web, username, token, 100_000, "cash", iban, descr="salary")  # credit: filtered out
        transfer(app.web, username, token, 100, iban, "cash", descr="rent, small")  # too small
        transfer(app.web, username, token, 9_000, iban, "cash", descr="rent, big")  # too big
        transfer(app.web, username, token, 1_500, iban, "cash", descr="groceries")  # no text match
        transfer(app.web, username, token, 2_500, iban, "cash", descr="Rent for May")  # the one
        event = receive()["data"]["stream_transactions"]

    assert (event["descr"], event["changed_by"], event["direction"]) == ("Rent for May", "€25,00", "DEBIT")


def test_a_stream_opened_on_one_web_process_hears_a_transfer_made_on_another(app):
    username, account = new_user(app.web)

    with subscription(app.web, STREAM, {"iban": account["iban"]}) as receive:
        time.sleep(0.5)  # a stream tells what happens once it listens; the protocol has no "listening" answer
        transfer(app.other_web, username, account["token"], 777, "cash", account["iban"], mutation=True)
        event = receive()["data"]["stream_transactions"]

    assert (event["iban"], event["changed_by"]) == (account["iban"], "€7,77")


@pytest.mark.parametrize(
    "body",
    [
        '{ transactions_by_iban(iban: 1, max_items: "x") { id } }',
        "{ nonsense }",
        "query { " + "a: all_last_transactions { id } " * 30 + "}",
        "{ all_last_transactions { id " + "iban " * 3000 + "} }",
        "{",
    ],
)
def test_malformed_and_abusive_queries_get_a_graphql_error_not_a_500(app, body):
    status, answer = post(app.web, body)

    assert status in (200, 400)
    assert answer["errors"]


def test_transaction_by_id_and_the_last_transaction_of_every_account(app):
    username, account = new_user(app.web)
    iban = account["iban"]
    transfer(app.web, username, account["token"], 500, "cash", iban, descr="first")
    transfer(app.web, username, account["token"], 200, iban, "cash", descr="second")
    listing = """query ($iban: String!) { transactions_by_iban(iban: $iban, max_items: 1) { id descr } }"""
    for _ in range(50):
        newest = post(app.web, listing, {"iban": iban})[1]["data"]["transactions_by_iban"]
        if newest and newest[0]["descr"] == "second":
            break

    by_id = post(
        app.web,
        "query ($id: Int!) { transaction_by_id(id: $id) { iban descr direction changed_by } }",
        {"id": newest[0]["id"]},
    )[1]["data"]["transaction_by_id"]
    missing = post(app.web, "{ transaction_by_id(id: -1) { id } }")[1]["data"]["transaction_by_id"]
    last = post(app.web, "{ all_last_transactions { id iban } }")[1]["data"]["all_last_transactions"]

    assert by_id == {"iban": iban, "descr": "second", "direction": "DEBIT", "changed_by": "€2,00"}
    assert missing is None
    assert {"id": newest[0]["id"], "iban": iban} in last
    assert len({row["iban"] for row in last}) == len(last)


def test_graphiql_answers_a_browser(app):
    import urllib.request

    request = urllib.request.Request(app.web + "/graphql", headers={"Accept": "text/html"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        page = response.read()
        assert b"graphiql" in page.lower()
        assert b"unpkg.com" not in page  # every file of the IDE is served by us, so it works offline
    with urllib.request.urlopen(app.web + "/static/vendor/graphiql/graphiql-3.8.3.min.js", timeout=10) as script:
        assert script.status == 200


def test_the_web_process_serves_static_files_with_debug_on_and_off(app):
    import urllib.request

    for web in (app.web, app.other_web):
        for path in ("/static/admin/css/base.css", "/static/css/bank.css", "/static/vendor/htmx-2.0.11.min.js"):
            with urllib.request.urlopen(web + path, timeout=10) as response:
                assert response.status == 200, (web, path)


def test_every_customer_logs_in_to_their_own_account_after_the_read_model_is_dropped_and_rebuilt(app):
    """Logins once lived in the read database only: dropping it for a rebuild gave everyone a new, empty account."""
    username, account = new_user(app.web)
    transfer(app.web, username, account["token"], 1_500, "cash", account["iban"])

    call_command("flush", database="default", interactive=False)
    call_command("rebuild_projections")

    assert new_user(app.web, username=username)[1] == account
    assert Login.objects.get(username=username).password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert transfer(app.web, username, account["token"], 100, account["iban"], "cash")["success"] is True
    assert sorted(Transaction.objects.filter(iban=account["iban"]).values_list("changed_by_cents", flat=True)) == [
        -100,
        1_500,
    ]


def test_a_payment_reference_is_set_shown_live_and_searched_and_each_transaction_says_when_it_was_made(app):
    username, account = new_user(app.web)
    iban, token = account["iban"], account["token"]
    stream = STREAM.replace("direction } }", "direction reference changed_at } }")
    started = datetime.now(UTC)

    with subscription(app.web, stream, {"iban": iban}) as receive:
        transfer(app.web, username, token, 2_000, "cash", iban, mutation=True, reference="INV-2026-0042")
        live = receive()["data"]["stream_transactions"]
    transfer(app.web, username, token, 100, iban, "cash", mutation=True)
    search = """query ($iban: String!, $ref: String) { transactions_by_iban(iban: $iban, max_items: 10, reference: $ref)
      { changed_by reference changed_at } }"""
    status, found = post(app.web, search, {"iban": iban, "ref": "inv-2026"})
    status_all, everything = post(app.web, search, {"iban": iban})

    assert live["reference"] == "INV-2026-0042"
    assert status == status_all == 200
    assert [(t["changed_by"], t["reference"]) for t in found["data"]["transactions_by_iban"]] == [
        ("€20,00", "INV-2026-0042")
    ]
    rows = everything["data"]["transactions_by_iban"]
    assert [t["reference"] for t in rows] == [None, "INV-2026-0042"]
    times = [datetime.fromisoformat(t["changed_at"]) for t in rows]
    assert started - timedelta(seconds=5) < times[1] <= times[0] < datetime.now(UTC) + timedelta(seconds=5)
    assert datetime.fromisoformat(live["changed_at"]) == times[1]


def test_with_private_reads_a_stranger_is_refused_and_the_owner_and_staff_are_answered(app, settings):
    """PRIVATE_READS on one web process: an anonymous transactions_by_iban is refused, the account's token and an
    admin's session cookie are answered; the other web processes still answer anyone, as the original did."""
    from django.contrib.auth.models import User
    from django.test import Client

    private_web = app.start_web("web-private", PRIVATE_READS="true")
    username, account = new_user(private_web)
    iban, token = account["iban"], account["token"]
    assert transfer(private_web, username, token, 1000, "cash", iban)["success"] is True
    query = """query ($iban: String!, $token: String) {
      transactions_by_iban(iban: $iban, max_items: 5, token: $token) { changed_by } }"""
    settings.SECRET_KEY = SECRET_KEY  # the web's, which reads the session this test writes
    staff = Client()
    staff.force_login(User.objects.create_user(f"operator-{uuid.uuid4().hex[:8]}", is_staff=True))
    cookie = {"Cookie": f"sessionid={staff.cookies['sessionid'].value}"}

    status, stranger = post(private_web, query, {"iban": iban})
    assert (status, stranger["data"], stranger["errors"][0]["message"]) == (
        200,
        {"transactions_by_iban": None},
        PRIVATE_ACCOUNT,
    )
    for _ in range(50):
        owner = post(private_web, query, {"iban": iban, "token": token})[1]["data"]["transactions_by_iban"]
        if owner:
            break
    assert owner == [{"changed_by": "€10,00"}]
    assert post(private_web, query, {"iban": iban}, headers=cookie)[1]["data"]["transactions_by_iban"] == owner
    assert post(app.web, query, {"iban": iban})[1]["data"]["transactions_by_iban"] == owner
