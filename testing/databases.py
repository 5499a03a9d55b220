"""How the tests empty the databases while the bank's own processes still use them."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.db import OperationalError
from psycopg.errors import DeadlockDetected
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_fixed

logger = logging.getLogger(__name__)


def _is_a_deadlock(error: BaseException) -> bool:
    return isinstance(error, OperationalError) and isinstance(error.__cause__, DeadlockDetected)


def retrying_deadlocks(flush: Callable[..., Any]) -> Callable[..., Any]:
    """`flush` tried again when PostgreSQL ends it to break a deadlock: a projector or a web process of the
    running bank may be mid-statement on the tables it truncates. A flush is one transaction, so a failed one
    left nothing behind."""
    return functools.wraps(flush)(
        retry(
            retry=retry_if_exception(_is_a_deadlock),
            stop=stop_after_attempt(5),
            wait=wait_fixed(0.2),
            reraise=True,
            before_sleep=lambda state: logger.warning("flush ended by a deadlock, trying again: %s", state.outcome),
        )(flush)
    )
