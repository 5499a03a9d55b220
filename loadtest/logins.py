"""A login storm: many new customers at once, while one who is logged in keeps transferring.

Measures what a burst of password hashing does to everyone else (the hostile-input issue's target: all
logins answered within a minute, the logged-in customer's transfers at a p99 under a second).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from dataclasses import dataclass

import websockets

from loadtest.generator import GET_ACCOUNT, MONEY_TRANSFER


@dataclass(frozen=True)
class StormResult:
    logins: int
    answered: int
    refused: dict[str, int]
    all_answered_s: float
    transfers: int
    transfer_p50_ms: float
    transfer_p99_ms: float


async def _call(ws_url: str, query: str, variables: dict) -> dict:
    async with websockets.connect(ws_url, subprotocols=["graphql-ws"], open_timeout=60) as ws:
        await ws.send(json.dumps({"id": "1", "type": "start", "payload": {"query": query, "variables": variables}}))
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 120))
            if message["type"] in ("data", "error"):
                return message["payload"]


async def _storm(ws_url: str, logins: int) -> StormResult:
    username = f"storm-customer-{uuid.uuid4().hex[:6]}"
    account = (await _call(ws_url, GET_ACCOUNT, {"u": username, "p": username}))["data"]["get_account"]
    latencies: list[float] = []
    done = asyncio.Event()

    async def keep_transferring() -> None:
        async with websockets.connect(ws_url, subprotocols=["graphql-ws"]) as ws:
            while not done.is_set():
                variables = {"uuid": str(uuid.uuid4()), "username": username, "token": account["token"]}
                variables |= {"amount": 100, "from": "cash", "to": account["iban"], "descr": "during the storm"}
                started = time.monotonic()
                operation = uuid.uuid4().hex
                payload = {"query": MONEY_TRANSFER, "variables": variables}
                await ws.send(json.dumps({"id": operation, "type": "start", "payload": payload}))
                while json.loads(await ws.recv()).get("id") != operation:
                    pass
                latencies.append((time.monotonic() - started) * 1000)
                await asyncio.sleep(0.05)

    customer = asyncio.create_task(keep_transferring())
    started = time.monotonic()
    names = [f"storm-{uuid.uuid4().hex[:10]}" for _ in range(logins)]
    answers = await asyncio.gather(*(_call(ws_url, GET_ACCOUNT, {"u": n, "p": n}) for n in names))
    all_answered = time.monotonic() - started
    done.set()
    await customer
    reasons = [a["data"]["get_account"]["reason"] if a.get("data") else "error" for a in answers]
    refused: dict[str, int] = {}
    for reason in filter(None, reasons):
        refused[reason] = refused.get(reason, 0) + 1
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return StormResult(
        logins=logins,
        answered=len(answers),
        refused=refused,
        all_answered_s=round(all_answered, 1),
        transfers=len(latencies),
        transfer_p50_ms=round(statistics.median(latencies), 1),
        transfer_p99_ms=round(cuts[98], 1),
    )


def run_login_storm(web_url: str, logins: int) -> StormResult:
    return asyncio.run(_storm(web_url.replace("http://", "ws://").rstrip("/") + "/graphql-ws", logins))
