"""Each Work through the one loop, on the in-memory consumer of `testing.fake_kafka`: what is committed, when,
and never an offset back."""

import threading

import pytest

from kafka_bridge.consumers import loop as loop_module
from kafka_bridge.consumers.alerter import Alerter
from kafka_bridge.consumers.loop import ConsumerLoop
from kafka_bridge.consumers.projector import Projector
from kafka_bridge.wire.codecs import DecodeError
from testing.fake_kafka import FakeConsumer

BALANCES = "balance_changed"


class Killed(BaseException):
    """The process dies in the middle of a batch."""


class NoDeadLetters:
    def flush(self, timeout: float) -> int:
        return 0


def test_a_projector_that_dies_in_a_batch_has_committed_only_the_batches_before_it(monkeypatch):
    """In the fault tests a projector killed mid-batch had committed that batch: two events never reached the
    read model, and their transfers' answers waited for them for ever."""
    projected = []

    def handle(self, records) -> None:
        if records[0].offset() == 1:
            raise Killed
        projected.extend(records)

    monkeypatch.setattr(Projector, "handle", handle)
    consumer = FakeConsumer()
    consumer.append(BALANCES, 0, count=2)
    work = Projector(consumer, codec=None, dead_letters=NoDeadLetters(), notify=False)
    with pytest.raises(Killed):
        ConsumerLoop(consumer, work, topics=[BALANCES], batch_size=1).run(threading.Event())

    assert [r.offset() for r in projected] == [0]
    assert consumer.committed_offsets[(BALANCES, 0)] == 1  # record 1 is read again by whoever comes next


class NoRules:
    def catch_up(self) -> None:
        pass


class Unreadable:
    """Every balance change is one the alerts cannot read (the projector dead-letters those): nothing fires."""

    def decode(self, topic, value):
        raise DecodeError("not avro")


def test_an_idle_commit_after_the_alerts_plain_batch_never_moves_an_offset_back(monkeypatch):
    """The alerts kept a batch that fired nothing for a plain commit up to a second later; the loop's idle commit
    of the positions past a transaction marker came in between, and the late commit wrote the older offset
    back."""
    monkeypatch.setattr(loop_module, "IDLE_COMMIT_EVERY", 0)
    consumer = FakeConsumer()
    consumer.append(BALANCES, 0, count=2)
    consumer.marker(BALANCES, 0)
    consumer.rebalance([(BALANCES, 0), (BALANCES, 1)])
    alerter = Alerter(consumer, producer=None, rules=NoRules(), codec=Unreadable(), group="alerts")
    loop = ConsumerLoop(consumer, alerter, topics=[BALANCES])

    loop.process(consumer.consume(10))  # partition 0's two records: nothing fires
    assert consumer.consume(10) == []  # the position passes the transaction marker
    loop._idle()
    consumer.consume(0)  # an asynchronous commit lands at the next poll
    consumer.append(BALANCES, 1)
    alerter._committed_at = 0  # a second has passed: this plain batch commits what waits
    loop.process(consumer.consume(10))
    consumer.consume(0)

    partition_0 = [offset for landed in consumer.commits for partition, offset in landed if partition == (BALANCES, 0)]
    assert partition_0 == sorted(partition_0) and partition_0[-1] == 3


def test_revoked_partitions_have_the_alerts_plain_offsets_committed_at_once_and_never_again():
    """A batch that fired nothing waited up to a second for its commit; a rebalance in between let it land
    after the new owner's commits, and moved its offsets back."""
    consumer = FakeConsumer()
    consumer.append(BALANCES, 0, count=2)
    consumer.append(BALANCES, 1)
    alerter = Alerter(consumer, producer=None, rules=NoRules(), codec=Unreadable(), group="alerts")
    loop = ConsumerLoop(consumer, alerter, topics=[BALANCES])
    consumer.subscribe([BALANCES], on_assign=None, on_revoke=loop._revoked)
    consumer.rebalance([(BALANCES, 0), (BALANCES, 1)])
    loop.process(consumer.consume(10))

    consumer.rebalance([(BALANCES, 1)])  # partition 0 goes to another member

    assert consumer.commits == [[((BALANCES, 0), 2), ((BALANCES, 1), 1)]] and alerter._uncommitted == {}
