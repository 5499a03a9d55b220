"""One way for every long-running command to stop: SIGTERM or SIGINT sets a flag that its loop checks."""

from __future__ import annotations

import signal
import threading


def stop_on_signals() -> threading.Event:
    """An event that SIGTERM and SIGINT set; loops finish the work in hand and return, retries stop waiting."""
    stop = threading.Event()
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda *_: stop.set())
    return stop
