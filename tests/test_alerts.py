"""Alerts end to end: a rule set over GraphQL, balance changes, exactly one alert each, live and by e-mail."""

import random
import signal
import time
import uuid
from collections import Counter

import pytest
from playwright.sync_api import expect, sync_playwright

from accounts.iban import iban_for
from accounts.models import LedgerAccount
from kafka_bridge.tools.offsets import end_offsets
from kafka_bridge.wire.codecs import get_codec
from kafka_bridge.wire.messages import (
    AlertRule,
    AlertsSettingsUpdated,
    AlertTriggeredV2,
    BalanceChanged,
    ConfirmMoneyTransfer,
)
from testing.graphql import new_user, transfer
from testing.kafka import Collector, produce, produce_commands
from testing.live import post, running_app, subscription

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]

ADD_RULE = """mutation ($iban: String!, $token: String!, $kind: AlertKind!, $threshold: Int, $text: String) {
  add_alert_rule(iban: $iban, token: $token, kind: $kind, threshold: $threshold, descr_includes: $text) {
    id reason } }"""
ALERTS = (
    """query ($iban: String!, $token: String!) { alerts(iban: $iban, token: $token, max_items: 10) { kind message } }"""
)
RULES = """query ($iban: String!, $token: String!) { alert_rules(iban: $iban, token: $token) { id kind threshold } }"""
STREAM = (
    """subscription ($iban: String!, $token: String!) { stream_alerts(iban: $iban, token: $token) { kind message } }"""
)


@pytest.fixture(scope="module")
def app(django_db_setup, django_db_blocker, tmp_path_factory):
    logs = tmp_path_factory.mktemp("alerts-logs")
    mail = tmp_path_factory.mktemp("mail")
    env = {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail),
    }
    with django_db_blocker.unblock(), running_app(logs, **env) as running:
        running.start_alerts()
        running.start_worker()  # it mails, as the worker's role, which alone may read the owners' addresses
        running.web = running.start_web("web")
        running.mail = mail
        yield running


def add_rule(app, account, kind, threshold=None, text=None):
    variables = {"iban": account["iban"], "token": account["token"], "kind": kind, "threshold": threshold, "text": text}
    return post(app.web, ADD_RULE, variables)[1]["data"]["add_alert_rule"]


def test_a_rule_then_a_matching_and_a_plain_transfer_give_exactly_one_alert_everywhere(app, company_account):
    username, account = new_user(app.web)
    owner = {"iban": account["iban"], "token": account["token"]}
    alerts_topic = Collector(end_offsets("alerts"))
    assert add_rule(app, account, "DEBIT_ABOVE", threshold=1_000)["reason"] is None
    assert post(app.web, RULES, owner)[1]["data"]["alert_rules"][0]["threshold"] == 1_000

    with subscription(app.web, STREAM, owner) as receive:
        time.sleep(0.5)  # a stream tells what happens once it listens; the protocol has no "listening" answer
        credit = transfer(app.web, username, account["token"], 10_000, "cash", account["iban"])  # no alert
        small = transfer(app.web, username, account["token"], 500, account["iban"], "cash")  # no alert
        large = transfer(app.web, username, account["token"], 2_000, account["iban"], company_account.iban)
        assert [credit["success"], small["success"], large["success"]] == [True, True, True], large
        live = receive(30)["data"]["stream_alerts"]

    expected = "Debit of €20,00 to NL66OPEN0000000000 is above your limit of €10,00"
    assert live == {"kind": "DEBIT_ABOVE", "message": expected}
    alerts = [m for _, m in alerts_topic.until(lambda r: len(r) >= 1)]
    assert [m.message for _, m in alerts_topic.settle(2)] == [expected]
    alerts_topic.close()
    assert post(app.web, ALERTS, owner)[1]["data"]["alerts"] == [{"kind": "DEBIT_ABOVE", "message": expected}]
    assert isinstance(alerts[0], AlertTriggeredV2)


def test_a_wrong_token_gets_no_rules_no_alerts_and_no_stream(app):
    username, account = new_user(app.web)
    wrong = {"iban": account["iban"], "token": "0" * 20}

    assert add_rule(app, {**account, "token": "0" * 20}, "CREDIT_ABOVE", threshold=1)["reason"] == "invalid token"
    assert "invalid token" in post(app.web, ALERTS, wrong)[1]["errors"][0]["message"]
    with subscription(app.web, STREAM, wrong) as receive:
        assert "invalid token" in str(receive(10))


def test_alerts_are_mailed_to_an_owner_who_asked_for_it(app):
    from accounts.logins import ask_for_alert_email, verify_alert_email

    username, account = new_user(app.web)
    verify_alert_email(ask_for_alert_email(username, "owner@example.com"))
    add_rule(app, account, "DESCRIPTION_MATCHES", text="rent")

    transfer(app.web, username, account["token"], 1_000, "cash", account["iban"], descr="Rent refund")

    deadline = time.monotonic() + 30
    while not (mails := [p.read_text() for p in app.mail.iterdir()]):
        assert time.monotonic() < deadline, "no mail"
        time.sleep(0.2)
    assert "owner@example.com" in mails[0] and '"Rent refund" (€10,00) matches "rent"' in mails[0]


def test_run_alerts_killed_mid_stream_still_gives_exactly_one_alert_per_matching_transfer(app):
    accounts = []
    for _ in range(4):
        username, account = new_user(app.web)
        add_rule(app, account, "CREDIT_ABOVE", threshold=0)  # every deposit matches
        accounts.append((username, account))
    rng = random.Random(3)
    deposits = [
        (u, ConfirmMoneyTransfer(uuid.uuid4(), "", rng.randint(1, 500), "cash", a["iban"], "d"))
        for u, a in (rng.choice(accounts) for _ in range(500))
    ]
    ibans = {a["iban"] for _, a in accounts}
    alerts_topic = Collector(end_offsets("alerts"))

    produce_commands(deposits)
    alerts_topic.until(lambda r: len(r) >= 80, timeout=60)
    app.processes["alerts"].send_signal(signal.SIGKILL)
    app.processes["alerts"].wait(10)
    argv, process, env = app.how["alerts"]
    app.start("alerts", argv, process=process, **env)

    alerts_topic.until(lambda r: sum(m.iban in ibans for _, m in r) >= 500, timeout=120)
    triggers = Counter(m.trigger for _, m in alerts_topic.settle(3) if m.iban in ibans)
    alerts_topic.close()
    deposit_ids = {command.id for _, command in deposits}
    assert {t.command_id for t in triggers} == deposit_ids
    assert max(triggers.values()) == 1 and sum(triggers.values()) == 500
    assert sum(LedgerAccount.objects.get(iban=i).balance_cents for i in ibans) >= sum(
        c.amount_cents for _, c in deposits
    )


def test_the_client_page_shows_a_new_alert_as_a_toast_without_reloading(app, company_account):
    username = f"alerted-{uuid.uuid4().hex[:8]}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-background-networking"]
        )
        page = browser.new_page()
        page.goto(app.web + "/client/")
        page.fill("#login-form input[name=username]", username)
        page.fill("#login-form input[name=password]", "secret-password")
        page.click("#login-form button")
        page.select_option("#alert-rule-form select[name=kind]", "DEBIT_ABOVE")
        page.fill("#alert-rule-form input[name=amount]", "10")
        page.click("#alert-rule-form button")
        expect(page.locator("#alerts-panel ul.rules")).to_contain_text("money going out, above €10,00", timeout=20_000)
        page.wait_for_timeout(1_000)  # the alerts socket joins its group
        account = {"iban": page.inner_text("#iban"), "token": page.inner_text("#token")}

        transfer(app.web, username, account["token"], 5_000, "cash", account["iban"])  # another tab, as it were
        transfer(app.web, username, account["token"], 2_000, account["iban"], "NL66OPEN0000000000")

        toast = page.locator("#toasts .toast")
        expect(toast).to_contain_text(
            "Debit of €20,00 to NL66OPEN0000000000 is above your limit of €10,00", timeout=20_000
        )
        expect(page.locator("#alerts-list li").first).to_contain_text("Debit of €20,00")
        expect(page.locator("#alerts-list .empty")).to_be_hidden()  # "None yet." goes with the first alert
        browser.close()


def a_new_customer_is_alerted(app):
    """A new customer's rule fires on their first deposit, and the alerts process is still running."""
    username, account = new_user(app.web)
    assert add_rule(app, account, "CREDIT_ABOVE", threshold=0)["reason"] is None

    assert transfer(app.web, username, account["token"], 100, "cash", account["iban"])["success"] is True

    owner = {"iban": account["iban"], "token": account["token"]}
    deadline = time.monotonic() + 30
    while not post(app.web, ALERTS, owner)[1]["data"]["alerts"]:
        assert time.monotonic() < deadline and app.processes["alerts"].poll() is None, "no alert"
        time.sleep(0.2)


def test_a_settings_record_with_a_rule_that_cannot_be_kept_stops_no_alert(app):
    """A rule with a null threshold is valid Avro: judging a balance change by it raised a TypeError, and as the
    settings topic is compacted and read from its start, run_alerts crash-looped for good."""
    codec = get_codec()
    stranger = iban_for(f"9{uuid.uuid4().int % 10**9:09d}")  # one of ours by its form, no account
    hostile = AlertsSettingsUpdated(iban=stranger, rules=(AlertRule(uuid.uuid4(), "DEBIT_ABOVE", None, None),))
    produce([("alert_settings", stranger, codec.encode("alert_settings", hostile))])
    change = BalanceChanged(iban=stranger, new_balance_cents=-5, changed_by_cents=-5, counterparty="x", description="")
    produce([("balance_changed", "stranger", codec.encode("balance_changed", change))])
    a_new_customer_is_alerted(app)


def test_settings_records_beyond_what_the_domain_allows_are_kept_no_further(app):
    """The alerts kept every rule of every settings record they read, of any IBAN: the topic can be written
    past the handler's rules (20 rules an account, our accounts only)."""
    codec = get_codec()
    ours, foreign = iban_for(f"9{uuid.uuid4().int % 10**9:09d}"), f"DE{uuid.uuid4().int % 10**20:020d}"
    crowded = tuple(AlertRule(uuid.uuid4(), "CREDIT_ABOVE", n, None) for n in range(1_000))
    for iban in (ours, foreign):
        produce(
            [("alert_settings", iban, codec.encode("alert_settings", AlertsSettingsUpdated(iban=iban, rules=crowded)))]
        )
    a_new_customer_is_alerted(app)
    app.wait_for_log("alerts", "keeping 20 of the 1000 rules")
    app.wait_for_log("alerts", "no account of ours")


def test_a_record_on_the_alerts_positions_that_is_no_position_is_skipped(app):
    """Anyone who may write the positions topic can send one; the alerts read it at every start, and crash-looped."""
    keys = [f"{app.alerts_group}/balance_changed/{partition}" for partition in ("x", "0")]
    produce([("alerts_positions", keys[0], b"1"), ("alerts_positions", keys[1], b"not an offset")])
    app.restart("alerts")
    a_new_customer_is_alerted(app)
    app.wait_for_log("alerts", "not a position")


def test_run_alerts_whose_group_lost_its_offsets_resumes_where_its_transactions_were(app, admin):
    """With its offsets gone it read balance_changed from the start and judged all of history again."""
    username, account = new_user(app.web)
    add_rule(app, account, "CREDIT_ABOVE", threshold=0)
    alerts_topic = Collector(end_offsets("alerts"))
    for _ in range(3):
        assert transfer(app.web, username, account["token"], 100, "cash", account["iban"])["success"] is True
    alerts_topic.until(lambda r: sum(m.iban == account["iban"] for _, m in r) == 3, timeout=60)
    app.processes["alerts"].terminate()
    assert app.processes["alerts"].wait(30) == 0
    admin.delete_consumer_groups([app.alerts_group])[app.alerts_group].result(30)
    argv, process, env = app.how["alerts"]
    app.start("alerts", argv, process=process, **env)

    assert transfer(app.web, username, account["token"], 100, "cash", account["iban"])["success"] is True

    alerts_topic.until(lambda r: sum(m.iban == account["iban"] for _, m in r) == 4, timeout=60)
    assert len(alerts_topic.settle(3)) == 4  # the new deposit's alert, and no old one again
    alerts_topic.close()
