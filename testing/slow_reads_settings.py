"""The application's settings, with every database query that asks for the account "slow" taking 3 s.

The query holds whatever thread it runs on: a test can tell whether other reads have to wait for that thread.
"""

import time

from django.db.backends.signals import connection_created

from bankproject.settings import *  # noqa: F403


def _slow(execute, sql, params, many, context):
    if params and "slow" in params:
        time.sleep(3)
    return execute(sql, params, many, context)


def _make_slow(sender, connection, **kwargs):
    if _slow not in connection.execute_wrappers:
        connection.execute_wrappers.append(_slow)


connection_created.connect(_make_slow)
