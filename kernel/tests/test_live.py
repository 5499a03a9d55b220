from kernel import live
from kernel.live import Notifier


def test_notifications_arrive_in_the_order_given(monkeypatch):
    sent = []

    class Layer:
        async def group_send(self, group, message):
            sent.append((group, message))

    monkeypatch.setattr(live, "get_channel_layer", Layer)
    notifier = Notifier()
    notifier.send([("first", {"type": "a"}), ("second", {"type": "b"})])
    notifier.close()

    assert sent == [("first", {"type": "a"}), ("second", {"type": "b"})]


def test_a_failing_channel_layer_is_logged_and_does_not_stop_the_caller(monkeypatch, caplog):
    class BrokenLayer:
        async def group_send(self, group, message):
            raise ConnectionError("Redis is away")

    monkeypatch.setattr(live, "get_channel_layer", BrokenLayer)
    notifier = Notifier()
    notifier.send([("group", {"type": "x"})])
    notifier.close()

    assert "could not tell live listeners about 1 notification(s)" in caplog.text
    assert "Redis is away" in caplog.text
