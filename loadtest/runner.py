"""The load test's main loop (seed-inventory §8.3): one UI interaction a second while generators pile on."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from loadtest.browser_user import BrowserUser
from loadtest.config import LoadTestConfig, generators_in
from loadtest.generator import Generators
from loadtest.pingpong import measure_ping_pong
from loadtest.provenance import machine, results_name, run_settings
from loadtest.resources import CpuClock, ResourceSampler

SAMPLE_EVERY = 20  # loops between resource samples, as the original


@dataclass
class Outcome:
    last_loop: int
    time_outs: int
    generators: int
    results: Path
    errors: list[str]
    floor: dict

    def succeeded(self, config: LoadTestConfig) -> bool:
        return self.last_loop >= config.loops_for_success


def run_load_test(
    config: LoadTestConfig,
    web_url: str,
    results_dir: Path,
    report: Callable[[str], None] = print,
    on_loop: Callable[[int, int], None] | None = None,
) -> Outcome:
    """Run the load test; `report` gets a progress line per loop, `on_loop` the loop and generator count."""
    results_dir.mkdir(parents=True, exist_ok=True)
    results = results_dir / f"{results_name(config.name)}-{datetime.now():%Y-%m-%d-%H-%M-%S}.jsonl"
    report("measuring the floor: a bare Kafka ping-pong on the same broker...")
    floor = measure_ping_pong()
    report(f"ping-pong round trip p50 {floor['p50_ms']} ms, p99 {floor['p99_ms']} ms")
    sampler, clock = ResourceSampler(), CpuClock()
    generators = Generators(web_url.replace("http://", "ws://") + "/graphql-ws")
    if config.accounts_first:
        report(f"opening the accounts of {generators_in(config)} generators first, outside the timed loops...")
        generators.open_accounts_first(generators_in(config), report)
    user = BrowserUser(web_url)
    time_outs, loop = 0, 0
    started = time.monotonic()
    try:
        with results.open("w") as out:
            first = {
                "baseline": {"ping_pong": floor},
                "settings": run_settings(),
                "machine": machine(),
                "config": asdict(config),
            }
            out.write(json.dumps(first) + "\n")
            while True:
                loop += 1
                interaction = user.interact(loop, config.max_interaction_ms)
                latencies = generators.take_latencies()
                row = {
                    "loop": loop,
                    "time": time.time(),
                    "generators": generators.count,
                    "interaction_ms": None if interaction is None else round(interaction, 1),
                    "generator_latencies_ms": [round(x, 1) for x in latencies],
                    "cpu_seconds": clock.read(),  # since the run began, per part: the analysis takes differences
                }
                if loop % SAMPLE_EVERY == 0:
                    row["resources"] = sampler.sample()
                if interaction is None:
                    time_outs += 1
                    report(f"time-out {time_outs} at loop {loop}")
                out.write(json.dumps(row) + "\n")
                out.flush()  # a row per loop, written as it happens: nothing is lost when the run stops
                p50 = f"{statistics.median(latencies):.0f} ms" if latencies else "-"
                report(
                    f"loop {loop}/{config.max_loops}  generators {generators.count}  "
                    f"ui {row['interaction_ms'] or 'time-out'} ms  generator p50 {p50} ({len(latencies)})  "
                    f"time-outs {time_outs}"
                )
                if on_loop:
                    on_loop(loop, generators.count)
                if time_outs > config.max_time_outs or loop >= config.max_loops:
                    break
                time.sleep(max(0.0, started + loop * config.min_loop_ms / 1000 - time.monotonic()))
                if loop % config.loops_per_generator == 0:
                    generators.add()
    finally:
        generators.stop()
        user.close()
    return Outcome(loop, time_outs, generators.count, results, generators.errors, floor)
