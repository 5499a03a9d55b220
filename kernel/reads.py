"""Reads of the read model from async code, on a bounded pool of threads of their own.

Django's `sync_to_async` runs every such call on one thread that the whole web process shares: one slow
query held up every login, read and feed behind it. Here a few run side by side, each on its own
connection, and a burst waits its turn on the pool instead of on everyone.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.db import close_old_connections

P = ParamSpec("P")
T = TypeVar("T")


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=settings.DATABASE_READ_THREADS, thread_name_prefix="reads")


def _closing(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    try:
        return function(*args, **kwargs)
    finally:
        close_old_connections()  # back to the process's connection pool, as at the end of a request


async def read(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `function` (database reads) on the read pool and return what it returns."""
    call = functools.partial(_closing, function, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_pool(), call)
