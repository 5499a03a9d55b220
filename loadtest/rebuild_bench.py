"""What a rebuild of the read model costs on a serving bank: how long it takes, and what customers' deposits feel
meanwhile, against the same customers before it."""

from __future__ import annotations

import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings

from loadtest.time_travel import Web

T = TypeVar("T")
GET_ACCOUNT = 'mutation ($u: String!) { get_account(username: $u, password: "rebuild benchmark") { iban token } }'
DEPOSIT = """mutation ($id: String!, $u: String!, $t: String!, $to: String!) {
  money_transfer(uuid: $id, username: $u, token: $t, amount: 1, from: "cash", to: $to, descr: "meanwhile") {
    success reason } }"""


@dataclass(frozen=True)
class Latencies:
    ms: list[float]
    failed: int

    def __str__(self) -> str:
        if not self.ms:
            return f"no deposits ({self.failed} failed)"
        ms = sorted(self.ms)
        p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
        return (
            f"{len(ms)} deposits: p50 {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms, max {ms[-1]:.1f} ms, "
            f"failed {self.failed}"
        )


def deposits_while(web_url: str, customers: int, busy: threading.Event) -> Latencies:
    """`customers` closed-loop customers deposit a cent at a time until `busy` is cleared."""
    samples: list[float] = []
    failed = [0]

    def customer(n: int) -> None:
        web = Web(web_url)
        username = f"rebuild-bench-{n}"
        account = web.ask(GET_ACCOUNT, u=username)["get_account"]
        while busy.is_set():
            started = time.perf_counter()
            try:
                answer = web.ask(DEPOSIT, id=str(uuid.uuid4()), u=username, t=account["token"], to=account["iban"])
                if answer["money_transfer"]["success"]:
                    samples.append((time.perf_counter() - started) * 1000)
                    continue
            except Exception:  # noqa: BLE001 - a failure is counted, not raised
                web = Web(web_url)
            failed[0] += 1

    threads = [threading.Thread(target=customer, args=(n,)) for n in range(customers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Latencies(samples, failed[0])


def measured(web_url: str, customers: int, run: Callable[[], T]) -> tuple[Latencies, T]:
    """Deposits by `customers` for as long as `run()` takes; return them and what `run` returned."""
    busy = threading.Event()
    busy.set()
    result: list[Latencies] = []
    loop = threading.Thread(target=lambda: result.append(deposits_while(web_url, customers, busy)))
    loop.start()
    try:
        outcome = run()
    finally:
        busy.clear()
        loop.join()
    return result[0], outcome


def rebuild_in_its_own_process() -> tuple[float, str]:
    """`manage.py rebuild_projections` as an operator runs it; its time and its last line."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "manage.py", "rebuild_projections"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return time.monotonic() - started, done.stdout.strip().splitlines()[-1]
