"""Load generators: websocket GraphQL clients running the original's transfer chain (seed-inventory §8.4).

Each speaks the legacy `graphql-ws` protocol without `connection_init`, exactly as the original's
client did, and does at most four transfers a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable

import websockets

logger = logging.getLogger(__name__)

GET_ACCOUNT = (
    "subscription ($u: String!, $p: String!) { get_account(username: $u, password: $p) { iban token reason } }"
)
MONEY_TRANSFER = """subscription ($uuid: String!, $username: String!, $token: String!, $amount: Int!, $from: String!,
  $to: String!, $descr: String!) { money_transfer(uuid: $uuid, username: $username, token: $token, amount: $amount,
  from: $from, to: $to, descr: $descr) { uuid success reason } }"""
OPENING_AT_ONCE = 4  # generators opening accounts first, at once: each login hashes a password (~0.4 s of CPU)
MIN_STEP_SECONDS = 0.25  # at most 4 transfers a second per generator
EXPECTED_REASON = {"invalid_token": "invalid token", "insufficient_funds": "insufficient funds"}


def next_step(kind: str, amount: int) -> tuple[str, int]:
    """The original's chain: amounts ping-pong upwards by a euro cent hundred, with deliberate failures."""
    if kind == "from":
        return ("invalid_token", 100) if amount >= 5000 else ("to", amount + 100)
    if kind == "to":
        return ("insufficient_funds", 100_000) if amount >= 5000 else ("from", amount + 100)
    if kind == "invalid_token":
        return "from", 100
    return "to", 100


class Generators:
    """Runs generators on an event loop in a thread of its own; the load test adds them one by one."""

    def __init__(self, ws_url: str) -> None:
        self.ws_url = ws_url
        self.latencies: list[float] = []  # ms, taken (and emptied) by the load test every loop
        self.errors: list[str] = []
        self.count = 0
        self.opened = 0  # generators whose accounts are open
        self._starts: list[asyncio.Event] = []  # of the generators that opened their accounts first
        self._stop = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="generators")
        self._thread.start()

    def open_accounts_first(self, count: int, report: Callable[[str], None]) -> None:
        """Make the next `count` generators open their accounts now (a few at a time: each login hashes a
        password), so that joining later costs the bank no login. Returns when all are open."""

        async def prepare() -> None:
            opening = asyncio.Semaphore(OPENING_AT_ONCE)
            self._starts = [asyncio.Event() for _ in range(count)]
            for number, start in enumerate(self._starts, 1):
                asyncio.create_task(self._run(number, opening, start))

        asyncio.run_coroutine_threadsafe(prepare(), self._loop).result(10)
        reported = time.monotonic()
        while self.opened < count:
            if self.errors:
                raise RuntimeError(f"a generator could not open its accounts: {self.errors[0]}")
            if time.monotonic() - reported >= 10:
                report(f"accounts of {self.opened} of {count} generators open...")
                reported = time.monotonic()
            time.sleep(0.2)

    def add(self) -> None:
        self.count += 1
        if self.count <= len(self._starts):
            self._loop.call_soon_threadsafe(self._starts[self.count - 1].set)
        else:
            asyncio.run_coroutine_threadsafe(self._run(self.count), self._loop)

    def take_latencies(self) -> list[float]:
        taken, self.latencies = self.latencies, []
        return taken

    def stop(self) -> None:
        """Close every generator's websocket, then end the event loop."""
        self._stop.set()

        async def cancel_all() -> None:
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(cancel_all(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _run(self, number: int, opening: asyncio.Semaphore | None = None, start: asyncio.Event | None = None):
        try:
            async with websockets.connect(self.ws_url, subprotocols=["graphql-ws"], open_timeout=60) as ws:
                async with opening or contextlib.nullcontext():
                    first = await self._account(ws, f"account-first-{number}-{uuid.uuid4().hex[:6]}")
                    second = await self._account(ws, f"account-second-{number}-{uuid.uuid4().hex[:6]}")
                self.opened += 1
                if start:
                    await start.wait()
                kind, amount = "from", 100
                while not self._stop.is_set():
                    started = time.monotonic()
                    answer = await self._transfer(ws, kind, amount, first, second)
                    latency = (time.monotonic() - started) * 1000
                    self.latencies.append(latency)
                    self._check(kind, answer, number)
                    kind, amount = next_step(kind, amount)
                    await asyncio.sleep(max(0.0, MIN_STEP_SECONDS - latency / 1000))
        except Exception as error:  # noqa: BLE001 - reported, never silent (the original's generators died quietly)
            self.errors.append(f"generator {number} stopped: {error!r}")
            logger.warning("generator %d stopped: %r", number, error)

    async def _call(self, ws, query: str, variables: dict) -> dict:
        operation = uuid.uuid4().hex
        await ws.send(
            json.dumps({"id": operation, "type": "start", "payload": {"query": query, "variables": variables}})
        )
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if message.get("id") == operation and message["type"] == "data":
                await ws.send(json.dumps({"id": operation, "type": "stop"}))
                return message["payload"]
            if message.get("id") == operation and message["type"] == "error":
                raise RuntimeError(message["payload"])

    async def _account(self, ws, username: str) -> dict:
        payload = await self._call(ws, GET_ACCOUNT, {"u": username, "p": username})
        account = payload["data"]["get_account"]
        if account["reason"]:
            raise RuntimeError(f"cannot open account {username}: {account['reason']}")
        return {**account, "username": username}

    async def _transfer(self, ws, kind: str, amount: int, first: dict, second: dict) -> dict:
        source, target = (second, first) if kind == "to" else (first, second)
        token = "bogus-token" if kind == "invalid_token" else source["token"]
        variables = {
            "uuid": str(uuid.uuid4()),
            "username": source["username"],
            "token": token,
            "amount": amount,
            "from": source["iban"],
            "to": target["iban"],
            "descr": f"{amount} {source['iban']} to {target['iban']}",
        }
        payload = await self._call(ws, MONEY_TRANSFER, variables)
        return payload["data"]["money_transfer"]

    def _check(self, kind: str, answer: dict, number: int) -> None:
        expected = EXPECTED_REASON.get(kind)
        ok = answer["success"] if expected is None else (not answer["success"] and answer["reason"] == expected)
        if not ok:
            self.errors.append(f"generator {number}: {kind} answered {answer}")
