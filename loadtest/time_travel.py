"""How fast the past is told: `balance_at` (and its neighbours) on an account with a long history, over HTTP as a
client asks, and the database's part alone."""

from __future__ import annotations

import http.client
import json
import random
import statistics
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from kafka_bridge import clients
from kafka_bridge.wire.codecs import encode_key, get_codec
from kafka_bridge.wire.messages import ConfirmMoneyTransfer
from kafka_bridge.wire.topology import Topic
from transfers.models import Transaction
from transfers.selectors import balance_at, changes_until

GET_ACCOUNT = 'mutation ($u: String!) { get_account(username: $u, password: "time travel history") { iban token } }'
BALANCE_AT = "query ($iban: String!, $at: DateTime!) { balance_at(iban: $iban, at: $at) }"
UNTIL = "query ($iban: String!, $at: DateTime!) { transactions_by_iban(iban: $iban, max_items: 20, until: $at) { id } }"
EXPLAIN = "query ($iban: String!, $at: DateTime!) { explain_balance(iban: $iban, at: $at, max_items: 100) { offset } }"


@dataclass(frozen=True)
class Timings:
    name: str
    ms: list[float]

    def __str__(self) -> str:
        ms = sorted(self.ms)
        p = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]  # noqa: E731
        return (
            f"{self.name:<40} n={len(ms)}  p50 {statistics.median(ms):6.2f} ms  p95 {p(0.95):6.2f} ms  "
            f"p99 {p(0.99):6.2f} ms  max {ms[-1]:6.2f} ms"
        )


class Web:
    """One kept-alive HTTP connection to the GraphQL endpoint."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)

    def ask(self, query: str, **variables: object) -> dict:
        body = json.dumps({"query": query, "variables": variables})
        self.connection.request("POST", "/graphql", body, {"Content-Type": "application/json"})
        answer = json.loads(self.connection.getresponse().read())
        if answer.get("errors"):
            raise RuntimeError(answer["errors"])
        return answer["data"]


def account_with_history(web: Web, username: str, changes: int, report: Callable[[str], None]) -> str:
    """The IBAN of `username`'s account, with at least `changes` deposits of a cent in the read model: those missing
    are sent as commands on Kafka, and the handler and the projector of the running bank do the rest."""
    account = web.ask(GET_ACCOUNT, u=username)["get_account"]
    iban, token = account["iban"], account["token"]
    have = Transaction.objects.filter(iban=iban).count()
    if have < changes:
        report(f"sending {changes - have} deposits to {iban} through `commands`...")
        codec, producer = get_codec(), clients.producer()
        for n in range(have, changes):
            command = ConfirmMoneyTransfer(uuid.uuid4(), token, 1, "cash", iban, f"history {n}")
            producer.produce(Topic.COMMANDS.value, codec.encode(Topic.COMMANDS, command), encode_key(username))
            producer.poll(0)
        producer.flush(60)
    while (have := Transaction.objects.filter(iban=iban).count()) < changes:
        report(f"  {have} of {changes} in the read model")
        time.sleep(2)
    return iban


def measure(web: Web, iban: str, queries: int, seed: int = 1) -> list[Timings]:
    """Each query at the same `queries` random moments of the account's history (a few before and after it)."""
    first, last = _history_span(iban)
    rng = random.Random(seed)
    moments = [first + (last - first) * rng.uniform(-0.05, 1.05) for _ in range(queries)]
    timings = [Timings("balance_at, the database alone", [_timed(balance_at, iban, at) for at in moments])]
    for name, query in (
        ("balance_at over HTTP", BALANCE_AT),
        ("transactions_by_iban(until, 20) over HTTP", UNTIL),
        ("explain_balance(at, 100) over HTTP", EXPLAIN),
    ):
        timings.append(Timings(name, [_timed(web.ask, query, iban=iban, at=at.isoformat()) for at in moments]))
    return timings


def plan(iban: str) -> str:
    """How PostgreSQL finds balance_at's row, at the middle of the account's history."""
    first, last = _history_span(iban)
    rows = changes_until(iban, first + (last - first) / 2).values_list("new_balance_cents")[:1]
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def _history_span(iban: str) -> tuple[datetime, datetime]:
    moments = Transaction.objects.filter(iban=iban, changed_at__isnull=False).values_list("changed_at", flat=True)
    return moments.order_by("changed_at")[0], moments.order_by("-changed_at")[0]


def _timed(call: Callable[..., object], *args: object, **kwargs: object) -> float:
    started = time.perf_counter()
    call(*args, **kwargs)
    return (time.perf_counter() - started) * 1000
