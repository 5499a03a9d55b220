"""Operations on the running bank: /health/, /metrics with consumer lag, the Status page, and logs that follow
one command through every process."""

import json
import os
import time
import urllib.request
import uuid

import pytest
from playwright.sync_api import expect, sync_playwright

from devstack import control
from devstack.profiles import get_profile
from kafka_bridge.wire.messages import ConfirmMoneyTransfer
from testing.graphql import new_user, transfer
from testing.kafka import produce_commands
from testing.live import post, running_app

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]


@pytest.fixture(scope="module")
def app(django_db_setup, django_db_blocker, tmp_path_factory):
    logs = tmp_path_factory.mktemp("operations-logs")
    metrics = tmp_path_factory.mktemp("metrics")  # this app's processes alone, so counts are theirs
    env = {"PROMETHEUS_MULTIPROC_DIR": str(metrics), "LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG"}
    with django_db_blocker.unblock(), running_app(logs, **env) as running:
        groups = f"{running.handler_group},{running.projector_group}"
        running.web = running.start_web("web", MONITORED_CONSUMER_GROUPS=groups)
        yield running


def get(app, path):
    try:
        with urllib.request.urlopen(app.web + path, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def metric(app, name, **labels):
    """The value of one sample of /metrics, or None."""
    wanted = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else "")
    for line in get(app, "/metrics")[1].splitlines():
        sample, _, value = line.rpartition(" ")
        if sample == wanted:
            return float(value)
    return None


def eventually(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.3)
    return result


def test_health_is_200_for_machines_and_people_when_everything_is_up(app):
    eventually(lambda: get(app, "/health/?format=json")[0] == 200)

    status, body = get(app, "/health/?format=json")
    assert set(json.loads(body).values()) == {"OK"}
    assert "Consumers(group=" in body and "Kafka()" in body and "SchemaRegistry()" in body
    assert get(app, "/health/")[0] == 200


def test_health_is_503_while_a_dependency_is_down_and_200_once_it_is_back(app):
    if "DEVSTACK_PROFILE" not in os.environ:
        pytest.fail("this test stops Redis of the stack: run it with `make test`", pytrace=False)
    profile = get_profile(os.environ["DEVSTACK_PROFILE"])
    control.request(profile, "stop", "redis")
    try:
        status, body = eventually(lambda: (r := get(app, "/health/?format=json"))[0] == 503 and r)
        assert "Redis" in body and "Unavailable" in body
    finally:
        control.request(profile, "start", "redis")
    eventually(lambda: get(app, "/health/?format=json")[0] == 200)


def test_lag_rises_while_the_handler_is_down_and_falls_to_zero_once_it_is_back(app):
    group = app.handler_group
    eventually(lambda: metric(app, "bank_consumer_lag", group=group, topic="commands") == 0)
    app.processes["handler"].terminate()
    app.processes["handler"].wait(30)
    commands = [
        ("lagging", ConfirmMoneyTransfer(uuid.uuid4(), "t", 100, "cash", "NL66OPEN0000000000", "lag")) for _ in range(7)
    ]

    produce_commands(commands)

    assert eventually(lambda: metric(app, "bank_consumer_lag", group=group, topic="commands") == 7)
    assert eventually(lambda: get(app, "/health/?format=json")[0] == 503)  # its heartbeat went stale
    argv, process, env = app.how["handler"]
    app.start("handler", argv, process=process, **env)
    assert eventually(lambda: metric(app, "bank_consumer_lag", group=group, topic="commands") == 0)
    eventually(lambda: get(app, "/health/?format=json")[0] == 200)


def test_an_idle_bank_shows_no_lag_where_only_transaction_markers_follow_the_last_record(app):
    """Each Kafka transaction ends in a marker that no consumer reads a record at: an idle projector group
    showed records behind, which an operator reads as a stuck consumer."""
    username, account = new_user(app.web)
    for _ in range(3):
        assert transfer(app.web, username, account["token"], 100, "cash", account["iban"])["success"] is True

    group = app.projector_group
    for topic in ("balance_changed", "money_transfer_feedback"):
        assert eventually(lambda topic=topic: metric(app, "bank_consumer_lag", group=group, topic=topic) == 0, 20)


def test_the_answer_latency_histogram_counts_each_command_once(app):
    before = metric(app, "bank_command_answer_seconds_count", command="transfer") or 0
    username, account = new_user(app.web)

    for _ in range(5):
        assert transfer(app.web, username, account["token"], 100, "cash", account["iban"])["success"] is True

    assert metric(app, "bank_command_answer_seconds_count", command="transfer") == before + 5
    assert metric(app, "bank_graphql_operations_total", operation="money_transfer", outcome="ok") >= 5


def test_an_operation_name_a_client_chose_never_becomes_a_metric_label(app):
    """Each name once made a time series of its own: a client could grow Prometheus without end."""
    chosen = f"Chosen{uuid.uuid4().hex}"
    before = metric(app, "bank_graphql_operations_total", operation="transaction_by_id", outcome="ok") or 0

    assert post(app.web, f"query {chosen} {{ transaction_by_id(id: 1) {{ id }} }}")[0] == 200

    assert chosen not in get(app, "/metrics")[1]
    assert metric(app, "bank_graphql_operations_total", operation="transaction_by_id", outcome="ok") == before + 1


def test_one_grep_follows_a_transfer_through_the_web_the_handler_and_the_projector(app):
    username, account = new_user(app.web)
    command_id = str(uuid.uuid4())

    transfer(app.web, username, account["token"], 100, "cash", account["iban"], command_id=command_id)

    for process in ("web", "handler", "projector"):
        lines = [
            json.loads(line) for line in (app.logs / f"{process}.log").read_text().splitlines() if line.startswith("{")
        ]
        assert any(line.get("command_id") == command_id for line in lines), f"{process} never named {command_id}"


def test_the_status_page_shows_every_part_and_updates_by_itself(app):
    username, account = new_user(app.web)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-background-networking"]
        )
        page = browser.new_page()
        page.goto(app.web + "/status/")
        expect(page.locator("#now")).to_contain_text("consumer group", timeout=20_000)
        expect(page.locator("#now")).to_contain_text("PostgreSQL: the ledger")
        first = page.inner_text("#now")
        for _ in range(3):
            transfer(app.web, username, account["token"], 100, "cash", account["iban"])
        page.wait_for_timeout(4_500)  # two refreshes
        assert page.inner_text("#now") != first  # its "as of" time moved on without a reload
        browser.close()
    points = json.loads(get(app, "/status/data.json")[1])["points"]
    assert points and any(point["commands_per_second"] > 0 for point in points)
