"""Each Work through the one loop, on the in-memory consumer and producer of `testing.fake_kafka`: what is
committed, when, and never an offset back."""

import threading

import pytest
from confluent_kafka import KafkaError, KafkaException

from kafka_bridge.consumers import committer as committer_module
from kafka_bridge.consumers.alerter import Alerter
from kafka_bridge.consumers.committer import Commits, Produced
from kafka_bridge.consumers.dead_letters import DeadLetter
from kafka_bridge.consumers.loop import ConsumerLoop, Work
from kafka_bridge.consumers.projector import Projector
from kafka_bridge.wire.codecs import DecodeError
from testing.fake_kafka import FakeConsumer, FakeProducer

BALANCES = "balance_changed"


class Killed(BaseException):
    """The process dies in the middle of a batch."""


class NoRules:
    reader = FakeConsumer()

    def catch_up(self) -> None:
        pass


class Unreadable:
    """Every balance change is one the alerts cannot read (the projector dead-letters those): nothing fires."""

    def decode(self, topic, value):
        raise DecodeError("not avro")


class Scripted(Work):
    """A Work whose batches produce what `produce` says of their first record, and which hears how each ended."""

    def __init__(self, commits: Commits, produce=lambda record: Produced()) -> None:
        self.commits, self.produce, self.endings = commits, produce, []

    def handle(self, records):
        return self.produce(records[0])

    def ended(self, error):
        self.endings.append(error)


def offsets_of(consumer: FakeConsumer, partition) -> list[int]:
    return [offset for landed in consumer.commits for where, offset in landed if where == partition]


def test_a_projector_that_dies_in_a_batch_has_committed_only_the_batches_before_it(monkeypatch):
    """In the fault tests a projector killed mid-batch had committed that batch: two events never reached the
    read model, and their transfers' answers waited for them for ever."""
    projected = []

    def handle(self, records):
        if records[0].offset() == 1:
            raise Killed
        projected.extend(records)
        return Produced()

    monkeypatch.setattr(Projector, "handle", handle)
    consumer = FakeConsumer()
    consumer.append(BALANCES, 0, count=2)
    with pytest.raises(Killed):
        ConsumerLoop(consumer, Projector(codec=None, notify=False), topics=[BALANCES], batch_size=1).run(
            threading.Event()
        )

    assert [r.offset() for r in projected] == [0]
    assert consumer.committed_offsets[(BALANCES, 0)] == 1  # record 1 is read again by whoever comes next


def test_an_idle_commit_after_the_alerts_plain_batch_never_moves_an_offset_back(monkeypatch):
    """The alerts kept a batch that fired nothing for a plain commit up to a second later; the loop's idle commit
    of the positions past a transaction marker came in between, and the late commit wrote the older offset
    back."""
    monkeypatch.setattr(committer_module, "MARKERS_EVERY", 0)
    consumer = FakeConsumer()
    consumer.append(BALANCES, 0, count=2)
    consumer.marker(BALANCES, 0)
    consumer.rebalance([(BALANCES, 0), (BALANCES, 1)])
    alerter = Alerter(NoRules(), Unreadable(), group="alerts")
    loop = ConsumerLoop(consumer, alerter, producer=FakeProducer(consumer), topics=[BALANCES])

    loop.process(consumer.consume(10))  # partition 0's two records: nothing fires
    assert consumer.consume(10) == []  # the position passes the transaction marker
    loop.committer.idle()
    consumer.append(BALANCES, 1)
    monkeypatch.setattr(committer_module, "COMMIT_EVERY", 0)  # a second has passed: the plain batch commits
    loop.process(consumer.consume(10))
    loop.committer.close()

    assert offsets_of(consumer, (BALANCES, 0)) == [2, 3]


def test_revoked_partitions_have_the_alerts_plain_offsets_committed_at_once_and_never_again():
    """A batch that fired nothing waited up to a second for its commit; a rebalance in between let it land
    after the new owner's commits, and moved its offsets back."""
    consumer = FakeConsumer()
    consumer.append(BALANCES, 0, count=2)
    consumer.append(BALANCES, 1)
    loop = ConsumerLoop(consumer, Alerter(NoRules(), Unreadable(), group="alerts"), producer=FakeProducer(consumer))
    consumer.subscribe([BALANCES], on_assign=None, on_revoke=loop._revoked)
    consumer.rebalance([(BALANCES, 0), (BALANCES, 1)])
    loop.process(consumer.consume(10))

    consumer.rebalance([(BALANCES, 1)])  # partition 0 goes to another member
    consumer.committed_offsets[(BALANCES, 0)] = 50  # which goes on
    loop.committer.idle()
    loop.committer.close()

    assert consumer.commits == [[((BALANCES, 0), 2), ((BALANCES, 1), 1)]]


def test_a_transactional_batch_sends_its_offsets_with_its_output_and_ends_after_the_commit():
    consumer = FakeConsumer()
    consumer.append(BALANCES, 0, count=3)
    consumer.rebalance([(BALANCES, 0)])
    producer = FakeProducer(consumer)
    work = Scripted(Commits.IN_A_TRANSACTION, lambda record: Produced([("alerts", b"k", b"v", None)]))
    loop = ConsumerLoop(consumer, work, producer=producer, topics=[BALANCES])
    loop.committer.start()

    loop.process(consumer.consume(10))

    assert producer.calls[:2] == [("init",), ("begin",)] and producer.calls[-1] == ("commit",)
    # the offsets go on a thread while the work runs: before or after the output, within the transaction
    assert sorted(producer.calls[2:-1], key=str) == [("offsets", [((BALANCES, 0), 3)]), ("produce", "alerts", b"k")]
    assert work.endings == [None] and consumer.committed_offsets == {(BALANCES, 0): 3}


def test_a_failed_transaction_is_aborted_after_its_work_heard_of_the_failure_and_commits_nothing():
    consumer = FakeConsumer()
    consumer.append(BALANCES, 0)
    consumer.rebalance([(BALANCES, 0)])
    lost = KafkaException(KafkaError(KafkaError._FENCED, "fenced", fatal=False))
    producer = FakeProducer(consumer, fail_commit=lost)
    work = Scripted(Commits.IN_A_TRANSACTION)
    loop = ConsumerLoop(consumer, work, producer=producer, topics=[BALANCES], retry_deadline=0)

    with pytest.raises(KafkaException):
        loop.process(consumer.consume(10))

    assert work.endings and all(error is lost for error in work.endings)
    assert producer.calls[-1] == ("abort",) and consumer.commits == []
    loop.committer.idle()  # a batch that failed is not handled: nothing of it is committed later
    assert consumer.commits == []


def test_a_batch_that_produces_takes_the_waiting_plain_offsets_into_its_transaction_and_none_lands_later():
    consumer = FakeConsumer()
    consumer.append(BALANCES, 0, count=2)
    consumer.append(BALANCES, 1, count=2)
    consumer.rebalance([(BALANCES, 0), (BALANCES, 1)])
    producer = FakeProducer(consumer)
    fires = {(BALANCES, 1)}
    work = Scripted(
        Commits.WHEN_PRODUCING,
        lambda record: Produced(
            [("alerts", None, b"v", None)] if (record.topic(), record.partition()) in fires else []
        ),
    )
    loop = ConsumerLoop(consumer, work, producer=producer, topics=[BALANCES], batch_size=2)

    loop.process(consumer.consume(2))  # partition 0: nothing fires, its offsets wait
    loop.process(consumer.consume(2))  # partition 1 fires: one transaction for both
    loop.committer.idle()
    loop.committer.close()

    assert ("offsets", [((BALANCES, 0), 2), ((BALANCES, 1), 2)]) in producer.calls
    assert consumer.commits == [[((BALANCES, 0), 2), ((BALANCES, 1), 2)]]


def test_a_replay_reads_to_the_ends_it_was_given_commits_nothing_and_dead_letters_nothing_again():
    consumer = FakeConsumer()
    consumer.append(BALANCES, 0, count=3)
    consumer.marker(BALANCES, 0)
    consumer.append(BALANCES, 0, count=2)  # written after the replay began
    consumer.rebalance([(BALANCES, 0)])
    seen = []

    def produce(record):
        seen.append(record.offset())
        return Produced(dead_letters=[DeadLetter(record, "refused")])

    work = Scripted(Commits.PLAINLY, produce)
    ConsumerLoop(consumer, work, batch_size=1, watch_stalls=False, until={(BALANCES, 0): 4}).run(threading.Event())

    assert seen == [0, 1, 2] and consumer.commits == []


def test_an_idle_restarted_consumer_commits_past_the_marker_its_predecessor_left(monkeypatch):
    """On `make run`, after the projector and the alerts were killed and restarted, an idle group showed a record
    of lag on each partition the predecessor had last written to: the new process had read nothing there, so it
    never committed the position past that transaction's marker."""
    monkeypatch.setattr(committer_module, "MARKERS_EVERY", 0)
    consumer = FakeConsumer()
    consumer.append(BALANCES, 0, count=2)
    consumer.marker(BALANCES, 0)
    consumer.committed_offsets[(BALANCES, 0)] = 2  # the predecessor's last batch, committed before its death
    consumer.rebalance([(BALANCES, 0)])
    loop = ConsumerLoop(consumer, Projector(codec=None, notify=False), topics=[BALANCES])

    assert consumer.consume(10) == []  # the position passes the marker
    loop.committer.idle()

    assert consumer.committed_offsets[(BALANCES, 0)] == 3
