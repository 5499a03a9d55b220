"""The alerts loop: balance changes in, alerts out, exactly once.

It reads `balance_changed` in its group and keeps every account's rules from the compacted `alert_settings`
topic (read from the beginning, by every instance). For each balance change that matches a rule of its
account, as the rules stood when the change was committed, it produces one `AlertTriggered`; the alerts and
the consumed offsets go in one Kafka transaction, so after a crash the batch is done again and only one
of its two attempts is ever visible.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable

from confluent_kafka import Consumer, IsolationLevel, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from alerts.rules import AlertKind, Change, Rule, alert_message
from kafka_bridge import clients
from kafka_bridge.heartbeats import Heartbeat
from kafka_bridge.retry import DEFAULT_DEADLINE, is_transient, retrying
from kafka_bridge.wire.codecs import Codec, DecodeError, encode_key
from kafka_bridge.wire.headers import Identity
from kafka_bridge.wire.messages import AlertsSettingsUpdated, AlertTriggered, BalanceChanged
from kafka_bridge.wire.topology import Topic

logger = logging.getLogger(__name__)

GROUP_ID = "alerts"
ALERT_IDS = uuid.UUID("6f1e5c1a-3b0d-4c8e-9a51-0b7c2d9e4f10")  # the namespace of the alerts' ids
VERSIONS_KEPT = 8  # of an account's rules: changes that sit between unread balance changes


def trigger_of(record: Message) -> str:
    """The balance change's identity: its command and index, or its place in the topic."""
    identity = Identity.of(record)
    if identity.command_id is not None:
        return f"{identity.command_id}/{identity.event_index}"
    return f"{record.topic()}:{record.partition()}:{record.offset()}"


class Rules:
    """Every account's rules, in the versions the settings topic has had lately, with their timestamps."""

    def __init__(self, reader: Consumer, codec: Codec, new_admin: Callable[[], AdminClient]) -> None:
        self.reader, self.codec, self.new_admin = reader, codec, new_admin
        self.admin = new_admin()
        self._versions: dict[str, list[tuple[int, tuple[Rule, ...]]]] = defaultdict(list)

    def catch_up(self) -> None:
        """Read the settings topic up to where it ends now (committed records)."""
        partitions = self.reader.list_topics(Topic.ALERT_SETTINGS.value, timeout=10).topics[Topic.ALERT_SETTINGS.value]
        ends = self.admin.list_offsets(
            {TopicPartition(Topic.ALERT_SETTINGS.value, p): OffsetSpec.latest() for p in partitions.partitions},
            isolation_level=IsolationLevel.READ_COMMITTED,
            request_timeout=10,
        )
        try:
            end = {tp.partition: future.result(10).offset for tp, future in ends.items()}
        except KafkaException:
            # After a leader moves, the admin client may keep asking with a fenced leader epoch until it is
            # made anew (seen for a minute on end when a broker came back): the retry gets a fresh one.
            self.admin = self.new_admin()
            raise
        while True:
            positions = {tp.partition: tp.offset for tp in self.reader.position(list(ends))}
            if all(max(positions.get(p, 0), 0) >= offset for p, offset in end.items()):
                return
            for record in clients.consume_available(self.reader, 500, 0.2):
                self._read(record)

    def _read(self, record: Message) -> None:
        try:
            message = self.codec.decode(record.topic(), record.value())
        except DecodeError as error:
            logger.warning("skipping unreadable alert settings at %s:%d: %s", record.topic(), record.offset(), error)
            return
        if isinstance(message, AlertsSettingsUpdated):
            rules = tuple(Rule(r.id, AlertKind(r.kind), r.threshold, r.text) for r in message.rules)
            versions = self._versions[message.iban]
            versions.append((record.timestamp()[1], rules))
            del versions[:-VERSIONS_KEPT]

    def at(self, iban: str, timestamp: int) -> tuple[Rule, ...]:
        """The account's rules as they stood at `timestamp` (a change applies to what is committed after it)."""
        rules: tuple[Rule, ...] = ()
        for since, version in self._versions.get(iban, []):
            if since <= timestamp:
                rules = version
        return rules


class Alerter:
    def __init__(
        self,
        consumer: Consumer,
        producer: Producer,
        rules: Rules,
        codec: Codec,
        *,
        batch_size: int = 500,
        poll_timeout: float = 0.1,
        kafka_timeout: float = 30.0,
        retry_deadline: float = DEFAULT_DEADLINE,
        heartbeat: Heartbeat | None = None,
    ) -> None:
        self.consumer, self.producer, self.rules, self.codec = consumer, producer, rules, codec
        self.batch_size, self.poll_timeout, self.kafka_timeout = batch_size, poll_timeout, kafka_timeout
        self.retry_deadline = retry_deadline
        self.heartbeat = heartbeat
        self.stop = threading.Event()
        self.fired = 0

    def run(self, stop: threading.Event) -> None:
        self.stop = stop
        try:
            for attempt in retrying("starting the alerts producer", stop=stop, deadline=self.retry_deadline):
                with attempt:
                    self.producer.init_transactions(self.kafka_timeout)
            self.consumer.subscribe([Topic.BALANCE_CHANGED.value], on_assign=self._assigned)
            logger.info("alerts started on %s", Topic.BALANCE_CHANGED.value)
            with clients.StallWatch(self.consumer) as stalls:
                while not stop.is_set():
                    records = clients.consume_available(self.consumer, self.batch_size, self.poll_timeout)
                    if records:
                        self.alert(records)
                    stalls.observe()
                    if self.heartbeat:
                        self.heartbeat.beat()
        except Exception as error:
            if not (stop.is_set() and is_transient(error)):
                logger.error("alerts giving up: %r; its supervisor restarts it", error)
                raise
        finally:
            logger.info("alerts stopping after %d alerts", self.fired)
            self.consumer.close()
            self.rules.reader.close()
            self.producer.flush(self.kafka_timeout)

    @staticmethod
    def _assigned(consumer: Consumer, partitions: list[TopicPartition]) -> None:
        logger.info("assigned %d partition(s) of %s", len(partitions), Topic.BALANCE_CHANGED.value)

    def alert(self, records: list[Message]) -> None:
        """Alert on one batch exactly once, retrying transient failures until the deadline."""
        with clients.read_again_if_the_group_moved_on(self.consumer, records):
            for attempt in retrying(
                f"alerting on {len(records)} records", stop=self.stop, deadline=self.retry_deadline
            ):
                with attempt:
                    self._alert(records)

    def _alert(self, records: list[Message]) -> None:
        self.rules.catch_up()
        alerts = [alert for record in records for alert in self._alerts_for(record)]
        self.producer.begin_transaction()
        try:
            for alert in alerts:
                value = self.codec.encode(Topic.ALERTS, alert)
                self.producer.produce(Topic.ALERTS.value, key=encode_key(alert.iban), value=value)
            with clients.hard_deadline(self.kafka_timeout + 10, "sending the alerts' offsets"):
                self.producer.send_offsets_to_transaction(
                    clients.next_offsets(records), self.consumer.consumer_group_metadata(), self.kafka_timeout
                )
            with clients.hard_deadline(self.kafka_timeout + 10, "committing the alerts' transaction"):
                self.producer.commit_transaction(self.kafka_timeout)
        except BaseException:
            self.producer.abort_transaction(self.kafka_timeout)
            raise
        self.fired += len(alerts)

    def _alerts_for(self, record: Message) -> list[AlertTriggered]:
        try:
            event = self.codec.decode(record.topic(), record.value())
        except DecodeError:
            return []  # the projector dead-letters it; there is nothing to alert on
        if not isinstance(event, BalanceChanged):
            return []
        change = Change(event.new_balance_cents, event.changed_by_cents, event.counterparty, event.description)
        trigger = trigger_of(record)
        alerts = []
        for rule in self.rules.at(event.iban, record.timestamp()[1]):
            message = alert_message(rule, change)
            if message:
                alert_id = uuid.uuid5(ALERT_IDS, f"{trigger}|{rule.id}")
                alerts.append(AlertTriggered(alert_id, event.iban, rule.id, rule.kind.value, message, trigger))
        return alerts
