"""`make benchmark`'s pieces: the open loop's clock, the table and where it goes; the open loop on a live bank."""

import asyncio
import time

import pytest

from loadtest import open_loop
from loadtest.benchmark_table import BEGIN, END, Table, markdown, write_into
from loadtest.closed_loop import ClosedLoopResult
from loadtest.open_loop import OpenLoopResult
from testing.live import running_app


class SlowCustomer:
    """Answers each transfer after holding the whole event loop for 50 ms, as a client that cannot keep up."""

    async def transfer(self):
        time.sleep(0.05)
        return {"data": {"money_transfer": {"success": True, "reason": None}}}


def test_the_open_loop_counts_each_latency_from_when_the_transfer_was_due_not_from_when_it_was_sent():
    samples, errors = [], []

    asyncio.run(open_loop._offer([SlowCustomer()], rate=100, seconds=0.1, samples=samples, errors=errors))

    latencies = sorted(ms for _, ms in samples)
    assert len(latencies) == 10 and not errors
    assert latencies[-1] > 300, "the last transfer was due 90 ms in but sent about 450 ms in: it waited that long"


def closed(clients, per_second, p50, p99, machine_busy=2.5):
    return ClosedLoopResult(
        clients=clients,
        seconds=30,
        transfers=int(per_second * 30),
        per_second=per_second,
        p50_ms=p50,
        p90_ms=p99,
        p99_ms=p99,
        mean_ms=p50,
        ping_pong={"p50_ms": 1.0},
        relay={"p50_ms": 4.0},
        cpu_ms_per_transfer={"web": 1.0, "kafka": 0.9, "loadtest": 0.2},
        machine_cpu_ms_per_transfer={"busy": machine_busy, "stolen": 0.1},
    )


def offered(rate, p99, unanswered=0):
    latency = {"p50": p99 / 3, "p90": p99, "p99": p99, "max": p99, "mean": p99 / 3}
    return OpenLoopResult(rate, 30, int(rate * 30), rate, latency, unanswered, {}, {})


def test_the_table_says_which_goal_is_met_and_how_far_the_open_loop_kept_up():
    table = Table(
        many=closed(50, 640, 70, 240),
        one=closed(1, 60, 11.0, 20),
        open=[offered(300, 90), offered(400, 180), offered(500, 260)],
        machine={"commit": "abc1234", "date": "2026-12-08", "cores": "2", "node": "vm"},
    )

    rows = {line.split(" | ")[0].lstrip("| "): line for line in markdown(table).splitlines() if line.startswith("| ")}

    assert rows["50 closed-loop customers: at least 600 transfers/s, p99 at most 250 ms"].endswith("| yes |")
    assert "2.50 ms (the client 0.20" in next(row for goal, row in rows.items() if goal.startswith("at most 3 ms"))
    assert rows["open loop, 300 transfers/s offered: p99 at most 100 ms"].endswith("| yes |")
    highest = next(row for goal, row in rows.items() if goal.startswith("open loop: the highest"))
    assert "| 400/s (" in highest
    one = next(row for goal, row in rows.items() if goal.startswith("one customer"))
    assert "2.8x the relay (4.0 ms)" in one and one.endswith("| no |")


def test_when_300_a_second_is_too_many_the_table_names_the_lower_rate_that_kept_up():
    table = Table(closed(50, 300, 150, 400), closed(1, 50, 18, 35), [offered(300, 400), offered(200, 150)], {})
    table.machine = {"commit": "abc1234", "date": "2026-12-08", "cores": "2", "node": "vm"}

    highest = next(line for line in markdown(table).splitlines() if line.startswith("| open loop: the highest"))

    assert "| 200/s (200/s: p99 150 ms; 300/s: p99 400 ms) |" in highest


def test_the_table_replaces_the_one_between_the_markers_and_nothing_else(tmp_path):
    document = tmp_path / "performance.md"
    document.write_text(f"# Performance\n\nIntro.\n\n{BEGIN}\nold table\n{END}\n\n## History\n")

    write_into(document, f"{BEGIN}\nnew table\n{END}")
    write_into(document, f"{BEGIN}\nnewer table\n{END}")

    assert document.read_text() == f"# Performance\n\nIntro.\n\n{BEGIN}\nnewer table\n{END}\n\n## History\n"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_the_open_loop_offers_its_rate_to_a_live_bank_and_every_transfer_is_answered(tmp_path):
    with running_app(tmp_path / "logs") as app:
        web = app.start_web("web")
        first, faster = open_loop.run_open_loop(web, [10.0, 20.0], seconds=2, warmup=0.5, customers=2)

    assert (first.offered_per_second, faster.offered_per_second) == (10.0, 20.0)
    assert (first.transfers, faster.transfers, first.unanswered, faster.unanswered) == (20, 40, 0, 0)
    assert not first.errors and 0 < first.latency_ms["p50"] <= first.latency_ms["p99"]
    assert first.cpu_ms_per_transfer["kafka"] > 0 and first.machine_cpu_ms_per_transfer["busy"] > 0
