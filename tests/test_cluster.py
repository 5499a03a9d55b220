"""The production shape under faults: three Kafka nodes with mutual TLS and ACLs, two web, handler and projector
processes, all started by devstack (`make test` runs this module on the `cluster-test` profile, `--with-apps`).

Each fault runs while GraphQL clients (the original's legacy protocol) transfer money between their own
accounts and send a transfer again, with the same uuid, whenever they get no answer or lose their connection.
Afterwards, on the topics and in both databases: every command has exactly one feedback record, every confirmed
transfer exactly two BalanceChanged, no money appeared or vanished, each account's read-model balance is its
ledger balance, and every client request was answered.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import redis
from confluent_kafka import KafkaError, Producer
from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

from devstack import control, postgres
from devstack import redis as devstack_redis
from devstack.kafka import active_controller, librdkafka_settings, node_name
from devstack.profiles import get_profile
from devstack.tls import issue, make_authority
from kafka_bridge import clients
from kafka_bridge.tools.offsets import end_offsets, reader_from
from kafka_bridge.wire.codecs import get_codec
from kafka_bridge.wire.headers import Identity

pytestmark = pytest.mark.cluster

TRANSFER = """subscription ($uuid: String!, $username: String!, $token: String!, $amount: Int!, $from: String!,
  $to: String!, $descr: String!) { money_transfer(uuid: $uuid, username: $username, token: $token, amount: $amount,
  from: $from, to: $to, descr: $descr) { uuid success reason } }"""
GET_ACCOUNT = (
    "subscription ($u: String!, $p: String!) { get_account(username: $u, password: $p) { iban token reason } }"
)
RETRY_REASONS = ("no answer from the bank", "the bank cannot be reached")
START_BALANCE = 1_000_000


@pytest.fixture(scope="module")
def profile():
    if os.environ.get("DEVSTACK_PROFILE") not in ("cluster", "cluster-test"):
        pytest.fail("these tests need the cluster profile with its apps: run them with `make test`", pytrace=False)
    return get_profile(os.environ["DEVSTACK_PROFILE"])


def act(profile, action: str, name: str) -> None:
    control.request(profile, action, name)


# -- clients that retry as the original's frontend would have wished to ----------------------------------------


def call(ws_url: str, query: str, variables: dict, timeout: float = 30) -> dict:
    """One operation over the legacy protocol, without connection_init, on a connection of its own."""
    with connect(ws_url, subprotocols=["graphql-ws"], open_timeout=10) as websocket:
        websocket.send(json.dumps({"id": "1", "type": "start", "payload": {"query": query, "variables": variables}}))
        while True:
            message = json.loads(websocket.recv(timeout))
            if message["type"] in ("data", "error"):
                return message["payload"]


class Client(threading.Thread):
    """Two accounts of its own; transfers back and forth until told to stop, each one until it is answered."""

    def __init__(self, ws_url: str, stop: threading.Event, number: int) -> None:
        super().__init__(daemon=True)
        self.ws_url, self.stop, self.rng = ws_url, stop, random.Random(number)
        self.answers: dict[str, dict] = {}  # uuid -> the final answer
        self.events: dict[str, int] = {}  # uuid -> the BalanceChanged it causes when confirmed
        self.unanswered: list[str] = []
        self.retries = 0
        self.accounts = [self._open(f"fault-{number}-{side}-{uuid.uuid4().hex[:6]}") for side in ("a", "b")]

    def _open(self, username: str) -> dict:
        account = self._until_answered(GET_ACCOUNT, {"u": username, "p": username}, "get_account")
        assert account["iban"], account
        deposit = {"from": "cash", "to": account["iban"], "amount": START_BALANCE, "descr": "start"}
        answer = self._transfer({"username": username, "token": account["token"], **deposit})
        assert answer["success"], answer
        return {**account, "username": username}

    def _until_answered(self, query: str, variables: dict, field: str, deadline: float = 180) -> dict:
        give_up = time.monotonic() + deadline
        while time.monotonic() < give_up:
            try:
                answer = call(self.ws_url, query, variables)["data"][field]
            except (OSError, WebSocketException, TimeoutError, KeyError, TypeError):
                answer = None  # the connection broke, or the web process died: the same command again
            if answer and not any(str(answer.get("reason")).startswith(r) for r in RETRY_REASONS):
                return answer
            self.retries += 1
            self.last_retry_answer = answer
            time.sleep(0.5)
        raise AssertionError(f"{field} {variables.get('uuid')} was never answered; last: {self.last_retry_answer}")

    def _transfer(self, variables: dict) -> dict:
        command_id = str(uuid.uuid4())
        answer = self._until_answered(TRANSFER, {"uuid": command_id, **variables}, "money_transfer")
        self.answers[command_id] = answer
        self.events[command_id] = 1 if variables["from"] == "cash" else 2  # a deposit has no debit
        return answer

    def run(self) -> None:
        while not self.stop.is_set():
            source, target = self.rng.sample(self.accounts, 2)
            amount = self.rng.randint(1, 5_000)
            try:
                self._transfer(
                    {
                        "username": source["username"],
                        "token": source["token"],
                        "amount": amount,
                        "from": source["iban"],
                        "to": target["iban"],
                        "descr": "fault",
                    }
                )
            except AssertionError as error:
                self.unanswered.append(str(error))
            time.sleep(0.05)


@contextmanager
def clients_transferring(profile, count: int = 3):
    ws_url = f"ws://127.0.0.1:{profile.ports.web}/graphql-ws"
    starts = {topic: end_offsets(topic) for topic in ("commands", "money_transfer_feedback", "balance_changed")}
    stop = threading.Event()
    workers = [Client(ws_url, stop, n) for n in range(count)]
    for worker in workers:
        worker.start()
    time.sleep(2)  # under way before the fault
    yield workers
    stop.set()
    for worker in workers:
        worker.join(240)
    check_nothing_lost(workers, starts)


# -- what must hold afterwards -----------------------------------------------------------------------------------


def read_all(start, until_ends) -> list:
    """Every committed record from `start` to the ends the topic has now."""
    ends = {(tp.topic, tp.partition): tp.offset for tp in until_ends}
    begins = {(tp.topic, tp.partition): tp.offset for tp in start}
    reader = reader_from(start)
    records, deadline = [], time.monotonic() + 60

    def behind() -> bool:
        positions = reader.position(list(start))
        return any(
            (tp.offset if tp.offset >= 0 else begins[(tp.topic, tp.partition)]) < ends[(tp.topic, tp.partition)]
            for tp in positions
        )

    try:
        while behind():
            assert time.monotonic() < deadline, "the topic could not be read to its end"
            records += [r for r in reader.consume(500, 0.5) if not r.error()]
    finally:
        reader.close()
    return records


def check_nothing_lost(workers, starts) -> None:
    assert [w.unanswered for w in workers] == [[]] * len(workers), "a client request was never answered"
    ids = {command_id for w in workers for command_id in w.answers}
    confirmed = {command_id for w in workers for command_id, a in w.answers.items() if a["success"]}
    codec = get_codec()

    def sent_and_answered() -> tuple[Counter, Counter]:
        commands = Counter(
            str(codec.decode("commands", r.value()).id) for r in read_all(starts["commands"], end_offsets("commands"))
        )
        feedback = Counter(
            str(codec.decode("money_transfer_feedback", r.value()).id)
            for r in read_all(starts["money_transfer_feedback"], end_offsets("money_transfer_feedback"))
        )
        return commands, feedback

    def answered_once_each(counts: tuple[Counter, Counter]) -> bool:
        commands, feedback = counts
        return all(commands[i] >= 1 and feedback[i] == commands[i] for i in ids)

    # A client told its answer may have sent the command again meanwhile (after a time-out): that copy is
    # answered too, once a handler gets to it, which after a fault can take a while. Read until it is.
    commands, feedback = read_until(sent_and_answered, answered_once_each, every=2)
    ours = {i: commands[i] for i in ids}
    each_answered = answered_once_each((commands, feedback))
    unanswered = {i: (ours[i], feedback[i]) for i in ids if feedback[i] != ours[i]}
    assert each_answered, f"commands without exactly one feedback each (sent, answered): {unanswered}"
    events = Counter(
        str(Identity.of(r).command_id) for r in read_all(starts["balance_changed"], end_offsets("balance_changed"))
    )
    expected = {i: n for w in workers for i, n in w.events.items()}
    wrong = {i: (events[i], expected[i], ours[i], feedback[i]) for i in confirmed if events[i] != expected[i]}
    assert not wrong, f"confirmed transfers without exactly their events (found, expected, sent, answered): {wrong}"
    moved = {i: events[i] for i in ids - confirmed if events[i]}
    assert not moved, f"refused transfers that moved money: {moved}"

    ibans = [a["iban"] for w in workers for a in w.accounts]
    with psycopg.connect(os.environ["LEDGER_DATABASE_URL"]) as ledger:
        balances = dict(
            ledger.execute("SELECT iban, balance_cents FROM accounts_ledgeraccount WHERE iban = ANY(%s)", [ibans])
        )
    assert sum(balances.values()) == START_BALANCE * len(ibans), "money appeared or vanished"

    def shown_balances() -> dict:
        with psycopg.connect(os.environ["DATABASE_URL"]) as read_model:
            return dict(
                read_model.execute(
                    "SELECT DISTINCT ON (iban) iban, new_balance_cents FROM transfers_transaction"
                    " WHERE iban = ANY(%s) ORDER BY iban, id DESC",
                    [ibans],
                )
            )

    shown = read_until(shown_balances, lambda shown: shown == balances)
    assert shown == balances, "the read model shows another balance than the ledger's"


def read_until(read, done, seconds: float = 60, every: float = 1):
    """`read()` again until `done` holds for what it gave, or `seconds` have passed; what it gave last."""
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(every)


def wait_until_healthy(profile, seconds: float = 120) -> None:
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{profile.ports.web}/health/?format=json", timeout=10):
                return
        except OSError:
            time.sleep(1)
    raise AssertionError("the bank did not get healthy again")


# -- the faults ------------------------------------------------------------------------------------------------


def test_the_broker_leading_most_commands_partitions_is_killed_and_back_15_seconds_later(profile):
    leaders = Counter(
        p.leader for p in clients.admin().list_topics("commands", timeout=10).topics["commands"].partitions.values()
    )
    busiest = node_name(profile, leaders.most_common(1)[0][0])
    with clients_transferring(profile):
        act(profile, "kill", busiest)
        time.sleep(15)
        act(profile, "start", busiest)
        time.sleep(3)
    wait_until_healthy(profile)


def test_the_active_controller_is_killed(profile):
    logged_here = Path("server.log").exists()
    controller = node_name(profile, active_controller(profile))
    assert Path("server.log").exists() == logged_here, "Kafka's tool wrote its log into the current folder"
    with clients_transferring(profile):
        act(profile, "kill", controller)
        time.sleep(8)
        act(profile, "start", controller)
    wait_until_healthy(profile)


def test_a_rolling_restart_of_all_three_brokers_under_load(profile):
    with clients_transferring(profile):
        for node in range(1, profile.brokers + 1):
            act(profile, "stop", node_name(profile, node))
            act(profile, "start", node_name(profile, node))  # waits until it leads its partitions again
    wait_until_healthy(profile)


def test_one_of_two_web_processes_is_killed_and_its_clients_reconnect_to_the_same_port(profile):
    with clients_transferring(profile):  # its checks on leaving are the test
        act(profile, "kill", "web-1")
        time.sleep(6)
        act(profile, "start", "web-1")


def test_one_of_two_handlers_and_one_of_two_projectors_are_killed(profile):
    with clients_transferring(profile):
        act(profile, "kill", "command-handler-1")
        act(profile, "kill", "projector-2")
        time.sleep(12)  # their partitions move to the others once their sessions expire
        act(profile, "start", "command-handler-1")
        act(profile, "start", "projector-2")


def test_postgresql_then_redis_stopped_for_ten_seconds_each(profile):
    with clients_transferring(profile):
        act(profile, "stop", "postgres")
        time.sleep(10)
        act(profile, "start", "postgres")
        time.sleep(3)
        act(profile, "stop", "redis")
        time.sleep(10)
        act(profile, "start", "redis")
    wait_until_healthy(profile)


def test_the_web_may_not_forge_events_and_strangers_may_not_connect(profile, tmp_path):
    web = Producer({**librdkafka_settings(profile, "web"), "message.timeout.ms": 10_000})
    errors = []
    web.produce("balance_changed", key=b"mallory", value=b"forged", on_delivery=lambda e, m: errors.append(e))
    web.flush(15)
    assert errors and errors[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED

    plaintext = clients.admin(**{"security.protocol": "PLAINTEXT", "logger": clients.LIBRDKAFKA_LOGGER})
    with pytest.raises(Exception):  # noqa: B017, PT011 - no metadata whatever the error
        plaintext.list_topics(timeout=5)

    authority, key = make_authority(tmp_path, "Another CA")
    issue(tmp_path, "admin", authority, key)
    stranger = clients.admin(
        **{
            "ssl.ca.location": str(profile.tls_dir / "ca.crt"),
            "ssl.certificate.location": str(tmp_path / "admin" / "admin.crt"),
            "ssl.key.location": str(tmp_path / "admin" / "admin.key"),
        }
    )
    with pytest.raises(Exception):  # noqa: B017, PT011 - the TLS handshake refuses it
        stranger.list_topics(timeout=5)


def test_postgresql_and_redis_ask_every_client_for_its_password_and_each_role_keeps_to_its_work(profile):
    """The processes log in as roles of their own, by password: the web's may read the ledger, never change a
    balance; without the password, or with a wrong one, neither PostgreSQL nor Redis lets anyone in."""
    with psycopg.connect(postgres.url(profile, "ledger", postgres.ROLES["web"])) as web:
        assert web.execute("SELECT count(*) FROM accounts_ledgeraccount").fetchone()[0] > 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            web.execute("UPDATE accounts_ledgeraccount SET balance_cents = balance_cents + 1")
    projector = psycopg.connect(postgres.url(profile, "ledger", postgres.ROLES["projector"]))
    with projector, pytest.raises(psycopg.errors.InsufficientPrivilege):
        projector.execute("SELECT count(*) FROM accounts_ledgeraccount")
    for role in (postgres.ROLES["web"], postgres.SUPERUSER):
        for login in (role, f"{role}:wrong"):
            with pytest.raises(psycopg.OperationalError, match="password"):
                psycopg.connect(f"postgres://{login}@127.0.0.1:{profile.ports.postgres}/ledger", connect_timeout=5)

    for password in (None, "wrong"):
        with pytest.raises(redis.exceptions.AuthenticationError):
            redis.Redis(host="127.0.0.1", port=profile.ports.redis, password=password, socket_timeout=5).ping()
    assert redis.Redis.from_url(devstack_redis.url(profile), socket_timeout=5).ping()
