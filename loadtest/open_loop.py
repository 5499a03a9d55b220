"""The open loop: transfers arriving at a fixed rate, whether or not the bank has answered the ones before.

As the original's generators did, and as customers do: a closed loop waits when the bank is slow, so its tail
looks flatter than what arriving customers see. Each transfer's latency is counted from the moment it was due,
not from when it was sent, so a client that fell behind is not hidden (no coordinated omission). The transfers
go round a pool of customers, each with two accounts and one websocket carrying many operations at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from dataclasses import dataclass, field

from loadtest.closed_loop import OPENING_AT_ONCE, connect, open_two_accounts, summary, transfer
from loadtest.generator import MONEY_TRANSFER
from loadtest.resources import CpuClock

ANSWER_WITHIN = 30.0  # seconds: a transfer not answered by then counts as unanswered


@dataclass
class OpenLoopResult:
    offered_per_second: float
    seconds: float
    transfers: int
    answered_per_second: float
    latency_ms: dict[str, float]
    unanswered: int
    cpu_ms_per_transfer: dict[str, float]
    machine_cpu_ms_per_transfer: dict[str, float]
    errors: list[str] = field(default_factory=list)


class Customer:
    """A websocket with two accounts; answers are matched to their operations by id, many at a time."""

    def __init__(self, ws, accounts: tuple[dict, dict]) -> None:
        self.ws, self.accounts, self.turn = ws, accounts, 0
        self._waiting: dict[str, asyncio.Future] = {}
        self._reader = asyncio.create_task(self._read())

    async def transfer(self) -> dict:
        source, target = self.accounts if self.turn % 2 == 0 else self.accounts[::-1]
        self.turn += 1
        operation = uuid.uuid4().hex
        answered = self._waiting[operation] = asyncio.get_running_loop().create_future()
        start = {"query": MONEY_TRANSFER, "variables": transfer(source, target)}
        await self.ws.send(json.dumps({"id": operation, "type": "start", "payload": start}))
        try:
            return await asyncio.wait_for(answered, ANSWER_WITHIN)
        finally:
            del self._waiting[operation]

    async def _read(self) -> None:
        async for frame in self.ws:
            message = json.loads(frame)
            waiting = self._waiting.get(message.get("id"))
            if waiting and not waiting.done() and message["type"] in ("data", "error"):
                waiting.set_result(message["payload"])

    def stop(self) -> None:
        self._reader.cancel()


async def _offer(customers: list[Customer], rate: float, seconds: float, samples: list, errors: list) -> None:
    """Send a transfer every 1/rate s for `seconds`, round the customers; wait for the last answers."""
    began, sent = time.perf_counter(), []
    for n in range(int(rate * seconds)):
        due = began + n / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        sent.append(asyncio.create_task(_timed(customers[n % len(customers)], due, samples, errors)))
    await asyncio.gather(*sent)


async def _timed(customer: Customer, due: float, samples: list, errors: list) -> None:
    try:
        payload = await customer.transfer()
    except TimeoutError:
        errors.append("unanswered")
        return
    samples.append((due, (time.perf_counter() - due) * 1000))
    answer = (payload.get("data") or {}).get("money_transfer")
    if not (answer and answer["success"]):  # refused, or an error frame (too many operations on one socket, say)
        errors.append(str(answer["reason"] if answer else payload))


async def _run(ws_url: str, rates: list[float], seconds: float, warmup: float, customers: int, p99_at_most) -> list:
    async with contextlib.AsyncExitStack() as stack:
        sockets = [await stack.enter_async_context(connect(ws_url)) for _ in range(customers)]
        opening = asyncio.Semaphore(OPENING_AT_ONCE)
        pairs = await asyncio.gather(*(open_two_accounts(ws, n, opening) for n, ws in enumerate(sockets)))
        pool = [Customer(ws, pair) for ws, pair in zip(sockets, pairs, strict=True)]
        results = []
        for rate in rates:
            await _offer(pool, rate, warmup, [], [])
            samples: list[tuple[float, float]] = []
            errors: list[str] = []
            clock, began = CpuClock(), time.perf_counter()
            await _offer(pool, rate, seconds, samples, errors)
            results.append((rate, time.perf_counter() - began, samples, errors, clock.read(), clock.read_machine()))
            if p99_at_most is not None and (
                "unanswered" in errors or summary([ms for _, ms in samples])["p99"] > p99_at_most
            ):
                break  # the bank no longer keeps up: a higher rate tells nothing more
        for customer in pool:
            customer.stop()
        return results


def run_open_loop(
    web_url: str,
    rates: list[float],
    seconds: float = 30.0,
    warmup: float = 10.0,
    customers: int = 50,
    p99_at_most: float | None = None,
) -> list[OpenLoopResult]:
    """Offer each of `rates` (transfers a second) for `seconds` after `warmup` seconds of the same, in turn, from
    one pool of `customers`, and stop after the first whose p99 is above `p99_at_most` ms or that left a transfer
    unanswered; the CPU is counted until the last answer."""
    ws_url = web_url.replace("http://", "ws://").rstrip("/") + "/graphql-ws"
    measured = asyncio.run(_run(ws_url, rates, seconds, warmup, customers, p99_at_most))
    results = []
    for rate, elapsed, samples, errors, cpu, machine in measured:
        latencies = [ms for _, ms in samples]
        count = max(1, len(latencies))
        results.append(
            OpenLoopResult(
                offered_per_second=rate,
                seconds=round(elapsed, 1),
                transfers=len(latencies),
                answered_per_second=round(len(latencies) / elapsed, 1),
                latency_ms=summary(latencies),
                unanswered=errors.count("unanswered"),
                cpu_ms_per_transfer={part: round(1000 * spent / count, 3) for part, spent in cpu.items()},
                machine_cpu_ms_per_transfer={kind: round(1000 * spent / count, 3) for kind, spent in machine.items()},
                errors=sorted(set(errors) - {"unanswered"})[:5],
            )
        )
    return results
