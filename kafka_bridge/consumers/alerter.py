"""The alerts' work: balance changes in, alerts out, exactly once.

It reads `balance_changed` in its group and keeps every account's rules from the compacted `alert_settings`
topic (read from the beginning, by every instance). For each balance change that matches a rule of its
account, as the rules stood when the change was committed, it produces one `AlertTriggered`; the alerts,
where it is in each partition (`alerts_positions`) and the consumed offsets go in one Kafka transaction,
so after a crash the batch is done again and only one of its two attempts is ever visible. A batch that
fires nothing needs no transaction: its offsets are committed plainly (`Commits.WHEN_PRODUCING`).

A balance change that cannot be judged (an exception in our code for a value the schema allows) is
dead-lettered to `alerts_dead_letter`; a rule that cannot be kept is logged and left out.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable

from confluent_kafka import (
    Consumer,
    IsolationLevel,
    KafkaException,
    Message,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, OffsetSpec

from accounts.iban import is_open_iban
from alerts.rules import EventOfCommand, FiredAlert, PlaceInLog, Rule, Trigger, fired_alerts
from kafka_bridge import batches, kept_positions
from kafka_bridge.consumers.committer import Commits, Encoded, Produced
from kafka_bridge.consumers.dead_letters import DeadLetter
from kafka_bridge.consumers.loop import Work, isolate
from kafka_bridge.translate import alert_triggered, balance_change_of, rules_of
from kafka_bridge.wire.codecs import Codec, DecodeError, encode_key
from kafka_bridge.wire.headers import Identity
from kafka_bridge.wire.messages import AlertsSettingsUpdated, BalanceChanged
from kafka_bridge.wire.topology import Topic

logger = logging.getLogger(__name__)

GROUP_ID = "alerts"
VERSIONS_KEPT = 8  # of an account's rules: changes that sit between unread balance changes


def trigger_of(record: Message) -> Trigger:
    """The balance change's identity: its command and index, or its place in the topic."""
    identity = Identity.of(record)
    if identity.command_id is not None and identity.event_index is not None:
        return EventOfCommand(identity.command_id, identity.event_index)
    return PlaceInLog(record.topic(), record.partition(), record.offset())


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
            read_to = {tp.partition: tp.offset for tp in self.reader.position(list(ends))}
            if all(max(read_to.get(p, 0), 0) >= offset for p, offset in end.items()):
                return
            for record in batches.consume_available(self.reader, 500, 0.2):
                self._read(record)

    def _read(self, record: Message) -> None:
        try:
            message = self.codec.decode(record.topic(), record.value())
        except DecodeError as error:
            logger.warning("skipping unreadable alert settings at %s:%d: %s", record.topic(), record.offset(), error)
            return
        if isinstance(message, AlertsSettingsUpdated):
            if not is_open_iban(message.iban):  # no balance of ours ever changes there: kept, it only takes memory
                logger.warning(
                    "skipping alert settings of %r at %d: no account of ours", message.iban[:40], record.offset()
                )
                return
            versions = self._versions[message.iban]
            versions.append((record.timestamp()[1], rules_of(message)))
            del versions[:-VERSIONS_KEPT]

    def at(self, iban: str, timestamp: int) -> tuple[Rule, ...]:
        """The account's rules as they stood at `timestamp` (a change applies to what is committed after it)."""
        rules: tuple[Rule, ...] = ()
        for since, version in self._versions.get(iban, []):
            if since <= timestamp:
                rules = version
        return rules


class Alerter(Work):
    name = "alerts"
    commits = Commits.WHEN_PRODUCING
    dead_letter_topic = Topic.ALERTS_DEAD_LETTER.value
    positions_topic = Topic.ALERTS_POSITIONS.value

    def __init__(self, rules: Rules, codec: Codec, *, group: str, kafka_timeout: float = 30.0) -> None:
        self.rules, self.codec, self.group, self.kafka_timeout = rules, codec, group, kafka_timeout

    def assigned(self, consumer: Consumer, partitions: list[TopicPartition]) -> list[TopicPartition]:
        """Start where the last transaction left each partition when the group's offset is lost or behind it; the
        group's offsets the positions topic does not know yet are kept there at once."""
        kept = kept_positions.read(Topic.ALERTS_POSITIONS.value, self.group, self.kafka_timeout)
        committed = consumer.committed(partitions, timeout=self.kafka_timeout)
        moved = False
        for tp, known in zip(partitions, committed, strict=True):
            offset = kept.get((tp.topic, tp.partition))
            if offset is not None and known.offset < offset:
                logger.warning(
                    "%s[%d]: the group's offset is %s, the last kept position %d: resuming there",
                    tp.topic,
                    tp.partition,
                    known.offset if known.offset >= 0 else "lost",
                    offset,
                )
                tp.offset, moved = offset, True
        if moved:
            consumer.assign(partitions)
        return [tp for tp in committed if tp.offset >= 0 and (tp.topic, tp.partition) not in kept]

    def handle(self, records: list[Message]) -> Produced:
        self.rules.catch_up()
        judged = isolate(records, self._alerts_for_all, self._unjudged)
        alerts = [alert for part in judged for alert in part if isinstance(alert, FiredAlert)]
        letters = [letter for part in judged for letter in part if isinstance(letter, DeadLetter)]
        encoded: list[Encoded] = [
            (Topic.ALERTS.value, encode_key(alert.iban), self.codec.encode(Topic.ALERTS, alert_triggered(alert)), None)
            for alert in alerts
        ]
        return Produced(encoded, letters)

    def _alerts_for_all(self, records: list[Message]) -> list[FiredAlert | DeadLetter]:
        return [alert for record in records for alert in self._alerts_for(record)]

    @staticmethod
    def _unjudged(record: Message, error: Exception) -> list[FiredAlert | DeadLetter]:
        logger.error("cannot judge %s:%d against its rules", record.topic(), record.offset(), exc_info=error)
        return [DeadLetter(record, f"the alerts could not judge it: {error!r}")]

    def _alerts_for(self, record: Message) -> list[FiredAlert]:
        try:
            event = self.codec.decode(record.topic(), record.value())
        except DecodeError:
            return []  # the projector dead-letters it; there is nothing to alert on
        if not isinstance(event, BalanceChanged):
            return []
        rules = self.rules.at(event.iban, record.timestamp()[1])
        return fired_alerts(rules, balance_change_of(record, event), trigger_of(record))

    def close(self) -> None:
        self.rules.reader.close()
