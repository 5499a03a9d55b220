"""The goals of issue #42 measured in one go on a running stack, as the table that opens docs/performance.md.

50 closed-loop customers (after a warm-up), one customer against the floors measured in the same run, then an open
loop: 300 transfers a second offered, then more until the p99 passes 250 ms.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from loadtest.closed_loop import ClosedLoopResult, run_closed_loop
from loadtest.open_loop import OpenLoopResult, run_open_loop
from loadtest.provenance import machine
from loadtest.resources import LOADTEST

CUSTOMERS = 50
OPEN_RATES = [300.0, 400.0, 500.0, 600.0, 700.0, 800.0]
LOWER_RATES = [200.0, 100.0]  # when 300 a second is already too many
P99_LIMIT_MS = 250.0
BEGIN, END = "<!-- make benchmark: begin -->", "<!-- make benchmark: end -->"


@dataclass
class Table:
    many: ClosedLoopResult
    one: ClosedLoopResult
    open: list[OpenLoopResult]
    machine: dict[str, str]

    def as_dict(self) -> dict:
        return asdict(self)


def measure(web_url: str, seconds: float, warmup: float, say: Callable[[str], None]) -> Table:
    say(f"{CUSTOMERS} closed-loop customers: {warmup:g} s of warm-up, the floors, {seconds:g} s timed")
    many = run_closed_loop(web_url, CUSTOMERS, seconds, warmup)
    say(f"  {many.per_second}/s, p50 {many.p50_ms} ms, p99 {many.p99_ms} ms")
    say(f"one customer: 10 s of warm-up, the floors, {seconds:g} s timed")
    one = run_closed_loop(web_url, 1, seconds, 10.0)
    say(f"  p50 {one.p50_ms} ms; relay p50 {one.relay['p50_ms']} ms, ping-pong p50 {one.ping_pong['p50_ms']} ms")
    say(f"open loop from {CUSTOMERS} customers: {OPEN_RATES[0]:g}/s, then more until the p99 passes {P99_LIMIT_MS:g}")
    offered = run_open_loop(web_url, OPEN_RATES, seconds, 10.0, CUSTOMERS, P99_LIMIT_MS)
    if not _kept_up(offered):
        say(f"  not even {OPEN_RATES[0]:g}/s: then {', '.join(f'{r:g}' for r in LOWER_RATES)}/s")
        offered += run_open_loop(web_url, LOWER_RATES, seconds, 10.0, CUSTOMERS)
    for result in offered:
        latency = result.latency_ms
        say(f"  {result.offered_per_second:g}/s offered: p50 {latency['p50']} ms, p99 {latency['p99']} ms")
    return Table(many, one, offered, machine())


def markdown(table: Table) -> str:
    """The goals, what was measured and whether each is met, between the markers `write_into` looks for."""
    many, one, at_300 = table.many, table.one, table.open[0]
    kept_up = _kept_up(table.open)
    highest = f"{max(r.offered_per_second for r in kept_up):g}/s" if kept_up else f"under {LOWER_RATES[-1]:g}/s"
    busy, client = _machine_ms(many), many.cpu_ms_per_transfer.get(LOADTEST, 0.0)
    relay, ping = one.relay["p50_ms"], one.ping_pong["p50_ms"]
    parts = ", ".join(f"{part} {ms:.2f}" for part, ms in _by_cost(many.cpu_ms_per_transfer) if ms >= 0.005)
    m = table.machine
    by_rate = sorted(table.open, key=lambda result: result.offered_per_second)
    every_rate = ", ".join(f"{rate:g}" for rate in sorted(LOWER_RATES + OPEN_RATES))
    rows = [
        (
            f"{CUSTOMERS} closed-loop customers: at least 600 transfers/s, p99 at most {P99_LIMIT_MS:g} ms",
            f"{many.per_second:g}/s, p50 {many.p50_ms} ms, p99 {many.p99_ms} ms",
            _met(many.per_second >= 600 and many.p99_ms <= P99_LIMIT_MS),
        ),
        (
            "at most 3 ms of the whole machine's CPU per transfer at 50 customers, the client included",
            f"{busy:.2f} ms (the client {client:.2f}; stolen by the hypervisor "
            f"{many.machine_cpu_ms_per_transfer.get('stolen', 0.0):.2f} more); per process: {parts}",
            _met(busy <= 3.0),
        ),
        (
            "open loop, 300 transfers/s offered: p99 at most 100 ms",
            f"p50 {at_300.latency_ms['p50']} ms, p99 {at_300.latency_ms['p99']} ms, "
            f"{at_300.answered_per_second:g}/s answered, {at_300.unanswered} unanswered",
            _met(at_300.latency_ms["p99"] <= 100 and not at_300.unanswered),
        ),
        (
            f"open loop: the highest rate offered (of {every_rate}) with p99 under {P99_LIMIT_MS:g} ms",
            highest
            + " ("
            + "; ".join(f"{r.offered_per_second:g}/s: p99 {r.latency_ms['p99']} ms" for r in by_rate)
            + ")",
            "(measured)",
        ),
        (
            "one customer: p50 at most 2.5x the exactly-once relay (like for like, same run)",
            f"p50 {one.p50_ms} ms = {one.p50_ms / relay:.1f}x the relay ({relay} ms), "
            f"{one.p50_ms / ping:.1f}x the ping-pong ({ping} ms); p99 {one.p99_ms} ms",
            _met(one.p50_ms <= 2.5 * relay),
        ),
    ]
    lines = [
        BEGIN,
        f"Measured by `make benchmark` at {m['commit']} on {m['date']} ({m['cores']} cores, {m['node']}): a stack "
        "started for it from empty data, as `make run`'s (the loadtest profile), the benchmark on the same machine.",
        "",
        "| goal (issue #42) | measured | met |",
        "|---|---|---|",
        *(f"| {goal} | {measured} | {met} |" for goal, measured, met in rows),
        END,
    ]
    return "\n".join(lines)


def write_into(document: Path, text: str) -> None:
    """Put `text` in place of what is between the markers in `document`, or after its title if it has none."""
    old = document.read_text()
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.DOTALL)
    if pattern.search(old):
        new = pattern.sub(lambda _: text, old, count=1)
    else:
        title, _, rest = old.partition("\n\n")
        new = f"{title}\n\n{text}\n\n{rest}"
    document.write_text(new)


def _kept_up(results: list[OpenLoopResult]) -> list[OpenLoopResult]:
    return [r for r in results if r.latency_ms["p99"] <= P99_LIMIT_MS and not r.unanswered]


def _machine_ms(result: ClosedLoopResult) -> float:
    return result.machine_cpu_ms_per_transfer.get("busy", 0.0)


def _by_cost(cpu: dict[str, float]) -> list[tuple[str, float]]:
    return sorted(cpu.items(), key=lambda item: -item[1])


def _met(yes: bool) -> str:
    return "yes" if yes else "no"
