import time
from unittest import mock

from kafka_bridge.consumers import watch


def test_a_call_that_outlives_its_deadline_ends_the_process():
    with mock.patch("os._exit") as exit_now, watch.hard_deadline(0.1, "a wedged call"):
        time.sleep(0.5)
    exit_now.assert_called_once_with(watch.WEDGED_EXIT_STATUS)


def test_a_call_within_its_deadline_does_not():
    with mock.patch("os._exit") as exit_now:
        with watch.hard_deadline(0.3, "a quick call"):
            pass
        time.sleep(0.5)
    exit_now.assert_not_called()
