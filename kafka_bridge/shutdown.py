"""One way for every long-running command to stop: SIGTERM or SIGINT sets a flag that its loop checks."""

from __future__ import annotations

import argparse
import signal
import threading

from kafka_bridge.retry import DEFAULT_DEADLINE


def add_retry_deadline(parser: argparse.ArgumentParser) -> None:
    """The option every long-running command has: how long to retry while a dependency is away."""
    parser.add_argument(
        "--retry-deadline",
        type=float,
        default=DEFAULT_DEADLINE,
        help="seconds to retry a batch while the database, broker or registry is away, before exiting",
    )


def stop_on_signals() -> threading.Event:
    """An event that SIGTERM and SIGINT set; loops finish the work in hand and return, retries stop waiting."""
    stop = threading.Event()
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda *_: stop.set())
    return stop
