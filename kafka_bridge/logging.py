"""Logging helpers for librdkafka, which otherwise prints every failed connection attempt to stderr."""

import logging


def silent_librdkafka_logger() -> logging.Logger:
    """A logger that drops librdkafka's own log lines; errors still surface as exceptions and callbacks."""
    logger = logging.getLogger("kafka_bridge.librdkafka")
    logger.addHandler(logging.NullHandler())
    logger.propagate = False
    return logger
