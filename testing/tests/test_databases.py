import re
import threading
import time

import psycopg
import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import OperationalError, connection
from psycopg.errors import DeadlockDetected

from testing.databases import retrying_deadlocks


def failing(times, error_type):
    calls = []

    def flush(sql_list):
        calls.append(sql_list)
        if len(calls) <= times:
            try:
                raise error_type("deadlock detected")
            except Exception as cause:
                raise OperationalError(str(cause)) from cause
        return "flushed"

    return flush, calls


def test_a_flush_ended_by_a_deadlock_is_tried_again():
    flush, calls = failing(2, DeadlockDetected)

    assert retrying_deadlocks(flush)(["TRUNCATE a"]) == "flushed"
    assert len(calls) == 3


def test_any_other_failure_of_a_flush_is_raised_at_once():
    flush, calls = failing(1, ValueError)

    with pytest.raises(OperationalError):
        retrying_deadlocks(flush)(["TRUNCATE a"])
    assert len(calls) == 1


def test_a_flush_that_deadlocks_every_time_gives_up():
    flush, calls = failing(100, DeadlockDetected)

    with pytest.raises(OperationalError):
        retrying_deadlocks(flush)(["TRUNCATE a"])
    assert len(calls) == 5


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_flush_that_deadlocks_with_another_session_still_empties_the_tables():
    """Once a projector's statement and a test's flush deadlocked, and PostgreSQL ended the flush (CI, 2026-12-04)."""
    User.objects.create(username="left-behind")
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    names = re.findall(r'"(\w+)"', connection.ops.sql_flush(no_style(), tables)[0])
    s = connection.settings_dict

    def another_session():
        """Holds the flush's last table, then asks for its first once the flush waits: a cycle."""
        with psycopg.connect(host=s["HOST"], port=s["PORT"], user=s["USER"], dbname=s["NAME"]) as other:
            other.execute(f'SELECT 1 FROM "{names[-1]}" LIMIT 1')
            holding.set()
            waiting = "SELECT 1 FROM pg_locks WHERE NOT granted AND mode = 'AccessExclusiveLock'"
            deadline = time.monotonic() + 10
            while not other.execute(waiting).fetchone() and time.monotonic() < deadline:
                time.sleep(0.01)
            other.execute(f'SELECT 1 FROM "{names[0]}" LIMIT 1')

    holding = threading.Event()
    other = threading.Thread(target=another_session)
    other.start()
    assert holding.wait(10)

    call_command("flush", interactive=False, verbosity=0)
    other.join(30)

    assert not User.objects.exists()
