"""rebuild_projections on a bank that serves: customers deposit and read throughout, and notice nothing."""

import os
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from banking.copies import NEXT, RETIRED, SWITCH, rebuild_progress
from testing.graphql import new_user, transfer
from testing.kafka import end_offsets
from testing.live import PROJECT_ROOT, database_env, post, running_app
from transfers.models import DailyTotal, Transaction

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]

HISTORY = "query ($iban: String!) { transactions_by_iban(iban: $iban, max_items: 100) { descr new_balance } }"


@pytest.fixture(scope="module")
def app(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock(), running_app(tmp_path_factory.mktemp("live-rebuild-logs")) as running:
        running.web = running.start_web("web")
        yield running


def deposit(app, user, account, cents, descr):
    return transfer(app.web, user, account["token"], cents, "cash", account["iban"], descr, mutation=True)


def history_of(app, iban):
    status, body = post(app.web, HISTORY, {"iban": iban}, timeout=10)
    assert status == 200 and "errors" not in body, body
    return body["data"]["transactions_by_iban"]


def test_a_rebuild_while_customers_deposit_and_read_loses_and_doubles_nothing(app, monkeypatch):
    readers = [new_user(app.web) for _ in range(3)]
    for user, account in readers:
        for n in range(3):
            assert deposit(app, user, account, 100 + n, f"before {n}")["success"]
    known = {account["iban"]: history_of(app, account["iban"]) for _, account in readers}
    assert all(len(rows) == 3 for rows in known.values())
    depositor, depositor_account = new_user(app.web)
    mailed = []
    monkeypatch.setattr("kafka_bridge.consumers.projector.mail_later", lambda alerts: mailed.extend(alerts))
    alerts_before = sum(tp.offset for tp in end_offsets("alerts"))
    stop, problems, deposits = threading.Event(), [], []

    def read_existing_accounts():
        while not stop.is_set():
            for iban, rows in known.items():
                try:
                    seen = history_of(app, iban)
                except Exception as error:  # noqa: BLE001 - every failure is a finding
                    problems.append(f"{iban}: {error!r}")
                    continue
                if seen != rows:
                    problems.append(f"{iban}: {len(seen)} rows where {len(rows)} were")
            time.sleep(0.2)

    def deposit_and_look():
        while not stop.is_set():
            descr = f"during {uuid.uuid4().hex[:8]}"
            started = time.monotonic()
            answer = deposit(app, depositor, depositor_account, 1, descr)
            deposits.append((descr, answer, time.monotonic() - started))
            if answer["success"] and descr not in [t["descr"] for t in history_of(app, depositor_account["iban"])]:
                problems.append(f"{descr} answered but not listed")
            time.sleep(0.2)

    before, rebuilt_from = read_model(), datetime.now(UTC)
    threads = [threading.Thread(target=read_existing_accounts), threading.Thread(target=deposit_and_look)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1)
        call_command("rebuild_projections")
        time.sleep(1)
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)

    assert problems == []
    after = read_model()
    assert set(before) <= set(after)  # the old copy's rows, each as it was
    # and besides them the topics' older history (this test database began after it), and the deposits meanwhile
    assert all(row[4] < rebuilt_from for row in set(after) - set(before) if row[0] != depositor_account["iban"])
    assert len(deposits) >= 5 and all(answer["success"] for _, answer, _ in deposits), deposits
    listed = [t["descr"] for t in history_of(app, depositor_account["iban"])]
    assert sorted(listed) == sorted(descr for descr, _, _ in deposits)  # each once: none lost, none doubled
    assert Transaction.objects.filter(iban=depositor_account["iban"]).count() == len(deposits)
    assert sum(tp.offset for tp in end_offsets("alerts")) == alerts_before  # history fired no alert
    assert mailed == []
    with urllib.request.urlopen(app.web + "/status/now/", timeout=30) as response:
        status = response.read().decode()
    assert "Rebuild of the read model" in status and "which serves now" in status  # the Status page followed it


def read_model():
    """Every transaction as its event says it (the ids are the copy's own)."""
    columns = ("iban", "new_balance_cents", "changed_by_cents", "description", "changed_at", "source_partition")
    return sorted(Transaction.objects.values_list(*columns, "source_offset", "command_id", "event_index"))


def test_a_rebuild_killed_at_its_switch_changes_nothing_and_the_next_one_completes(app):
    """The most delicate moment: the copy complete, the projector held off, the tables about to move."""
    user, account = new_user(app.web)
    assert deposit(app, user, account, 500, "before the kill")["success"]
    before = read_model()
    rebuild = subprocess.Popen(
        [sys.executable, "manage.py", "rebuild_projections"],
        cwd=PROJECT_ROOT,
        env={**os.environ, **database_env()},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [SWITCH])  # as a projector's batch in flight
            deadline = time.monotonic() + 120
            while (rebuild_progress() or {}).get("phase") != "switching":
                assert time.monotonic() < deadline and rebuild.poll() is None, "the rebuild never came to its switch"
                time.sleep(0.1)
            time.sleep(1)  # its last records replayed; waiting for this batch to end
            rebuild.kill()
            rebuild.wait(30)
    finally:
        rebuild.kill()

    assert read_model() == before
    assert [t["descr"] for t in history_of(app, account["iban"])] == ["before the kill"]
    assert deposit(app, user, account, 1, "after the kill")["success"]

    call_command("rebuild_projections")

    assert [t["descr"] for t in history_of(app, account["iban"])] == ["after the kill", "before the kill"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname IN (%s, %s)", [NEXT, RETIRED])
        assert cursor.fetchone()[0] == 0  # what the killed one left is gone


def test_a_projection_added_later_is_made_from_the_whole_history_by_a_rebuild(app):
    """Each account's days (transfers.DailyTotal) came after the bank had run: empty, as a new table is, until a
    rebuild makes it from the topics while the bank serves."""
    user, account = new_user(app.web)
    for cents in (100, 250):
        assert deposit(app, user, account, cents, "a day's deposit")["success"]
    DailyTotal.objects.all().delete()

    call_command("rebuild_projections")

    expected = {}
    for iban, day, change, balance in (
        Transaction.objects.filter(changed_at__isnull=False)
        .order_by("changed_at", "source_offset")
        .values_list("iban", "changed_at__date", "changed_by_cents", "new_balance_cents")
    ):
        credits, debits, changes, _ = expected.get((iban, day), (0, 0, 0, 0))
        expected[(iban, day)] = (credits + max(change, 0), debits + max(-change, 0), changes + 1, balance)
    made = DailyTotal.objects.values_list(
        "iban", "day", "credits_cents", "debits_cents", "changes", "closing_balance_cents"
    )
    assert {(iban, day): tuple(rest) for iban, day, *rest in made} == expected
    assert expected[(account["iban"], datetime.now(UTC).date())] == (350, 0, 2, 350)
