"""The past as the API tells it, against an independent replay of `balance_changed`, on the real stack."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from kafka_bridge.wire.codecs import get_codec
from kafka_bridge.wire.headers import Identity
from kernel.money import format_euro
from testing.graphql import new_user, transfer
from testing.kafka import Collector, end_offsets
from testing.live import post, running_app

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, databases="__all__")]

MS = timedelta(milliseconds=1)
ASK = """query ($iban: String!, $at: DateTime!) {
  balance_at(iban: $iban, at: $at)
  transactions_by_iban(iban: $iban, max_items: 100, until: $at) { descr }
  explain_balance(iban: $iban, at: $at) { amount_cents balance_cents command_id topic partition offset } }"""


@pytest.fixture(scope="module")
def app(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock(), running_app(tmp_path_factory.mktemp("time-travel-logs")) as running:
        running.web = running.start_web("web")
        yield running


def history(app):
    """Two customers' transfers, some one at a time and some at once (one handler batch, one moment): returns the
    customers' IBANs and the moment before the first of them existed."""
    before = datetime.now(UTC)
    (alice, a), (bob, b) = new_user(app.web), new_user(app.web)
    send = lambda user, account, amount, source, target, descr: transfer(  # noqa: E731
        app.web, user, account["token"], amount, source, target, descr, mutation=True
    )
    send(alice, a, 10_000, "cash", a["iban"], "a1")
    send(alice, a, 2_500, a["iban"], b["iban"], "a->b")  # two accounts' changes in one Kafka transaction
    send(bob, b, 700, b["iban"], "cash", "b-out")
    at_once = [
        threading.Thread(target=send, args=(alice, a, 100 + n, "cash", a["iban"], f"burst-{n}")) for n in range(6)
    ]
    for thread in at_once:
        thread.start()
    for thread in at_once:
        thread.join()
    send(bob, b, 1_234, b["iban"], a["iban"], "b->a")
    send(alice, a, 99, a["iban"], "cash", "a-out")
    return (a["iban"], b["iban"]), before


def replay(records, iban, at):
    """The balance at `at` as the events tell it: every change made by then, applied in the log's order."""
    made = [(r, e) for r, e in records if e.iban == iban and changed_at(r, e) <= at]
    return (sum(e.changed_by_cents for _, e in made) if made else None), [e.description for _, e in reversed(made)]


def changed_at(record, event):
    return event.changed_at or datetime.fromtimestamp(record.timestamp()[1] / 1000, UTC)


def test_balances_and_transactions_of_the_past_agree_with_a_replay_of_the_events(app):
    events = Collector(end_offsets("balance_changed"), decode=False)
    ibans, before = history(app)
    codec = get_codec()

    def ours(pairs):
        return [(r, e) for r, e in pairs if e.iban in ibans]

    raw = events.until(lambda records: len(ours(decoded(codec, records))) >= 13, timeout=60)
    records = sorted(ours(decoded(codec, raw)), key=lambda pair: (pair[0].partition(), pair[0].offset()))
    events.close()
    moments = sorted({changed_at(r, e) for r, e in records})
    instants = {before, moments[-1] + timedelta(days=1)}  # before either account existed, and the future
    # each change's own millisecond (its start and its last microsecond), and the ones either side
    instants |= {m + d for m in moments for d in (-MS, timedelta(0), MS - timedelta(microseconds=1), MS)}
    instants |= {a + (b - a) / 2 for a, b in zip(moments, moments[1:], strict=False)}  # between two moments
    assert len(instants) >= 30 and len(moments) < len(records)  # the burst's changes share a moment

    for iban in ibans:
        for at in sorted(instants):
            cents, descriptions = replay(records, iban, at)
            status, body = post(app.web, ASK, {"iban": iban, "at": at.isoformat()})
            assert status == 200 and "errors" not in body, body
            answer = body["data"]
            assert answer["balance_at"] == (None if cents is None else format_euro(cents)), (iban, at)
            assert [t["descr"] for t in answer["transactions_by_iban"]] == descriptions, (iban, at)
            steps = answer["explain_balance"]
            assert sum(step["amount_cents"] for step in steps) == (cents or 0), (iban, at)
            assert [step["balance_cents"] for step in steps][-1:] == ([cents] if cents is not None else [])
            cited = {(r.topic(), r.partition(), r.offset()): r for r, _ in records}
            for step in steps:
                record = cited[(step["topic"], step["partition"], step["offset"])]  # an event on the topic
                assert str(Identity.of(record).command_id) == step["command_id"]


def decoded(codec, raw):
    return [(record, codec.decode(record.topic(), record.value())) for _, record in raw]


def test_an_iban_and_a_moment_that_match_nothing_answer_nothing(app):
    status, body = post(app.web, ASK, {"iban": "NL00 <nobody>", "at": "2026-12-07T09:00:00"})

    assert (status, body) == (200, {"data": {"balance_at": None, "transactions_by_iban": [], "explain_balance": []}})
