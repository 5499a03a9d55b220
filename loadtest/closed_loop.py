"""The closed loop: N customers, each sending its next transfer as soon as the last is answered.

Every customer owns two accounts and moves money between them over one websocket (the original's legacy
GraphQL protocol). Account creation and a warm-up are kept out of the timed window. In the same run: the
two floors (a bare Kafka ping-pong and an exactly-once relay), measured after the warm-up while the customers
wait, and every part's CPU per transfer.

The warm-up matters on a fresh stack: until the broker's JVM has compiled its hot paths (a minute or two of
load), Kafka costs about twice the CPU per transfer and the floors read two to three times higher.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from dataclasses import asdict, dataclass, field

import websockets

from kernel.bus import NO_ANSWER
from loadtest.generator import GET_ACCOUNT, MONEY_TRANSFER
from loadtest.pingpong import measure_ping_pong, measure_relay
from loadtest.provenance import machine, run_settings
from loadtest.resources import CpuClock


@dataclass
class ClosedLoopResult:
    clients: int
    seconds: float
    transfers: int
    per_second: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    ping_pong: dict
    relay: dict
    cpu_ms_per_transfer: dict[str, float]
    machine_cpu_ms_per_transfer: dict[str, float] = field(default_factory=dict)  # busy and stolen, the whole machine
    settings: dict[str, str] = field(default_factory=dict)
    machine: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def floor_multiple(self) -> float:
        return self.p50_ms / self.ping_pong["p50_ms"]


async def _call(ws, query: str, variables: dict) -> dict:
    operation = uuid.uuid4().hex
    await ws.send(json.dumps({"id": operation, "type": "start", "payload": {"query": query, "variables": variables}}))
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 60))
        if message.get("id") == operation and message["type"] in ("data", "error"):
            return message["payload"]


FLOORS_AFTER_SECONDS = 2.0  # a pause before the floors (answers under way arrive) and after (the loop fills)
OPENING_AT_ONCE = 4  # each opening hashes a password (about 0.4 s of CPU): a crowd of them would time out


async def _log_in(ws, name: str, tries: int = 5) -> dict:
    """Log in, opening the account the first time; a login the bank did not answer in time (a process of
    the bank restarting, say) is sent again, as logging in twice gives the same account."""
    for _ in range(tries):
        account = (await _call(ws, GET_ACCOUNT, {"u": name, "p": name}))["data"]["get_account"]
        if account["iban"] or not str(account["reason"]).startswith(NO_ANSWER):
            break
    return account


def transfer(source: dict, target: dict) -> dict:
    """The variables of a one-euro transfer from `source` to `target` (accounts as `open_two_accounts` gives)."""
    variables = {"uuid": str(uuid.uuid4()), "username": source["username"], "token": source["token"]}
    return variables | {"amount": 100, "from": source["iban"], "to": target["iban"], "descr": "loop"}


def connect(ws_url: str):
    return websockets.connect(ws_url, subprotocols=["graphql-ws"], open_timeout=60, max_queue=None)


async def open_two_accounts(ws, number: int, opening: asyncio.Semaphore) -> tuple[dict, dict]:
    """Customer `number`'s two accounts, the first with 100,000 euros on it."""
    accounts = []
    for side in "ab":
        name = f"loop-{number}-{side}-{uuid.uuid4().hex[:6]}"
        async with opening:
            account = await _log_in(ws, name)
        if not account["iban"]:  # e.g. the login limit per address: wait a minute between large runs
            raise RuntimeError(f"customer {number} could not open an account: {account['reason']}")
        accounts.append({**account, "username": name})
    first, second = accounts
    deposit = {"uuid": str(uuid.uuid4()), "username": first["username"], "token": first["token"]}
    deposit |= {"amount": 10_000_000, "from": "cash", "to": first["iban"], "descr": "start"}
    await _call(ws, MONEY_TRANSFER, deposit)
    return first, second


async def _customer(ws_url: str, number: int, opening, ready: list, go, stop, samples, errors):
    async with connect(ws_url) as ws:
        source, target = await open_two_accounts(ws, number, opening)
        ready.append(number)
        while not stop.is_set():
            await go.wait()  # cleared while the floors are measured
            started = time.perf_counter()
            answer = (await _call(ws, MONEY_TRANSFER, transfer(source, target)))["data"]["money_transfer"]
            done = time.perf_counter()
            samples.append((done, (done - started) * 1000))
            if not answer["success"]:
                errors.append(str(answer["reason"]))
            source, target = target, source


async def _run(ws_url: str, clients: int, seconds: float, warmup: float):
    """(latencies in the window, errors, the window's length, CPU seconds per part in the window, the floors)."""
    ready: list[int] = []
    samples: list[tuple[float, float]] = []
    errors: list[str] = []
    go, stop = asyncio.Event(), asyncio.Event()
    opening = asyncio.Semaphore(OPENING_AT_ONCE)
    tasks = [
        asyncio.create_task(_customer(ws_url, n, opening, ready, go, stop, samples, errors)) for n in range(clients)
    ]
    while len(ready) < clients:  # accounts opened first, outside the timed window
        failed = [t for t in tasks if t.done() and t.exception()]
        if failed:
            raise failed[0].exception()
        await asyncio.sleep(0.2)
    go.set()
    await asyncio.sleep(warmup)
    go.clear()
    await asyncio.sleep(FLOORS_AFTER_SECONDS)  # the transfers under way are answered
    floors = await asyncio.to_thread(lambda: (measure_ping_pong(), measure_relay()))
    go.set()
    await asyncio.sleep(FLOORS_AFTER_SECONDS)
    clock, began = CpuClock(), time.perf_counter()
    await asyncio.sleep(seconds)
    ended = time.perf_counter()
    cpu, machine_cpu = clock.read(), clock.read_machine()
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    latencies = [ms for done, ms in samples if began <= done <= ended]
    return latencies, errors, ended - began, (cpu, machine_cpu), floors


def summary(latencies: list[float]) -> dict[str, float]:
    """p50, p90, p99, the largest and the mean of `latencies` (ms), to a tenth of a millisecond."""
    ordered = sorted(latencies) or [float("nan")]
    count = len(ordered)

    def percentile(q: float) -> float:
        return round(ordered[min(count - 1, int(q * count))], 1)

    return {
        "p50": round(statistics.median(ordered), 1),
        "p90": percentile(0.9),
        "p99": percentile(0.99),
        "max": round(ordered[-1], 1),
        "mean": round(statistics.fmean(ordered), 1),
    }


def run_closed_loop(web_url: str, clients: int, seconds: float = 30.0, warmup: float = 60.0) -> ClosedLoopResult:
    """`clients` customers in a closed loop: `warmup` seconds, the floors while they wait, then `seconds` timed."""
    ws_url = web_url.replace("http://", "ws://").rstrip("/") + "/graphql-ws"
    latencies, errors, elapsed, (cpu, machine_cpu), (ping_pong, relay) = asyncio.run(
        _run(ws_url, clients, seconds, warmup)
    )
    count = len(latencies)
    if not count:
        raise RuntimeError(f"no transfer was answered in the timed window; refusals: {sorted(set(errors))[:5]}")
    latency = summary(latencies)
    return ClosedLoopResult(
        clients=clients,
        seconds=round(elapsed, 1),
        transfers=count,
        per_second=round(count / elapsed, 1),
        p50_ms=latency["p50"],
        p90_ms=latency["p90"],
        p99_ms=latency["p99"],
        mean_ms=latency["mean"],
        ping_pong=ping_pong,
        relay=relay,
        cpu_ms_per_transfer={part: round(1000 * spent / count, 3) for part, spent in cpu.items()},
        machine_cpu_ms_per_transfer={kind: round(1000 * spent / count, 3) for kind, spent in machine_cpu.items()},
        settings=run_settings(),
        machine=machine(),
        errors=sorted(set(errors))[:5],
    )


def as_json(result: ClosedLoopResult) -> str:
    return json.dumps({**asdict(result), "floor_multiple": round(result.floor_multiple, 1), "at": time.time()})
