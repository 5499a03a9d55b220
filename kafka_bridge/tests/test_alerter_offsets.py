"""The alerts' plain commits around a rebalance: the offsets of revoked partitions are committed while they are
still ours, never after their new owner's."""

from confluent_kafka import KafkaError, KafkaException, TopicPartition

from kafka_bridge.consumers.alerter import Alerter


class Consumer:
    def __init__(self, fails=False):
        self.commits, self.fails = [], fails

    def commit(self, offsets, asynchronous):
        if self.fails:
            raise KafkaException(KafkaError(KafkaError.REBALANCE_IN_PROGRESS))
        self.commits.append(sorted((tp.partition, tp.offset) for tp in offsets))


def alerter_with_plain_offsets(consumer):
    alerter = Alerter(consumer, producer=None, rules=None, codec=None, group="alerts")
    alerter._uncommitted = {("balance_changed", p): TopicPartition("balance_changed", p, 10 + p) for p in (0, 1)}
    return alerter


def test_revoked_partitions_have_their_plain_offsets_committed_at_once_and_never_again():
    """An idle batch's offsets waited up to a second; a rebalance in between let them land after the new
    owner's, and moved its offsets back."""
    consumer = Consumer()
    alerter = alerter_with_plain_offsets(consumer)

    alerter.revoked(consumer, [TopicPartition("balance_changed", 0), TopicPartition("balance_changed", 1)])

    assert consumer.commits == [[(0, 10), (1, 11)]] and alerter._uncommitted == {}


def test_offsets_the_group_no_longer_takes_are_left_to_the_new_owner():
    consumer = Consumer(fails=True)
    alerter = alerter_with_plain_offsets(consumer)

    alerter.revoked(consumer, [TopicPartition("balance_changed", 0)])

    assert alerter._uncommitted == {}
