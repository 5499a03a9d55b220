import pytest

from loadtest.analysis import aggregate, original_results, runs_by_configuration, with_what_each_loop_took
from loadtest.provenance import results_name


def row(loop, generators, ui, latencies=(), resources=None):
    r = {"loop": loop, "generators": generators, "interaction_ms": ui, "generator_latencies_ms": list(latencies)}
    if resources:
        r["resources"] = resources
    return r


def test_runs_are_grouped_by_generator_count_like_the_original():
    rows = [row(1, 0, 100), row(2, 0, 300), row(3, 1, 200, [10, 30]), row(4, 1, None, [20])]  # loop 4 timed out

    level0, level1 = aggregate(rows, "demo")

    assert (level0["generators"], level0["data-points"], level0["average-latency"]) == (0, 2, 200)
    assert level0["err-latency"] == pytest.approx(100.0)  # sample sd 141.4 / sqrt(2)
    assert (level0["min-latency"], level0["max-latency"], level0["99-latency"]) == (100, 300, 300)
    assert level1["average-generator-latency"] == 20
    assert level1["transactions"] == 1 + 3
    assert level1["transactions-per-second"] == 1 + 3 / 2


def test_resources_are_averaged_per_part():
    rows = [
        row(20, 0, 100, resources={"kafka": {"cpu": 10, "mem": 500}}),
        row(40, 0, 100, resources={"kafka": {"cpu": 20, "mem": 700}}),
    ]

    (level,) = aggregate(rows, "x")

    assert (level["average-kafka-cpu"], level["average-kafka-mem"]) == (15, 600)


def test_transactions_per_second_use_the_loops_own_wall_time():
    run = [row(1, 2, 100, [10]) | {"time": 100.0}, row(2, 2, 100, [10, 20, 30]) | {"time": 102.0}]
    run += [row(3, 2, 3000, [10, 20, 30, 40, 50]) | {"time": 105.0}]  # a slow browser: the loop took 3 s

    (level,) = aggregate(with_what_each_loop_took(run), "x")  # the first loop has no time before it

    assert level["transactions-per-second"] == (4 + 6) / (2 + 3)


def test_the_original_published_results_are_shipped_for_comparison():
    original = original_results()

    assert {item["category"] for item in original} == {f"original linger.ms={ms}" for ms in (0, 10, 25, 100)}
    assert len(original) == 400
    assert max(item["transactions-per-second"] for item in original) > 300


def test_the_results_page_serves_our_runs_beside_the_original(client, settings, tmp_path):
    settings.LOADTEST_RESULTS_DIR = tmp_path
    (tmp_path / "demo-2026-11-25-10-00-00.jsonl").write_text(
        '{"loop": 1, "generators": 0, "interaction_ms": 120.5, "generator_latencies_ms": []}\n'
    )

    items = client.get("/results/data.json").json()["items"]

    assert {"category": "demo", "generators": 0, "average-latency": 120.5}.items() <= items[0].items()
    assert any(item["category"] == "original linger.ms=100" for item in items)
    assert client.get("/results/?metric=99-latency").status_code == 200


def test_cpu_per_transaction_comes_from_the_cpu_each_loop_used():
    run = [
        row(1, 0, 100) | {"cpu_seconds": {"web": 0.0, "kafka": 0.0}},
        row(2, 1, 100, [10, 20, 30]) | {"cpu_seconds": {"web": 0.004, "kafka": 0.010}},  # 4 transactions
        row(3, 1, None, [10]) | {"cpu_seconds": {"web": 0.006, "kafka": 0.011}},  # 1 (the browser timed out)
    ]

    level0, level1 = aggregate(with_what_each_loop_took(run), "x")

    assert "cpu-ms-per-transaction" not in level0  # the first loop of a run has nothing to measure from
    assert level0["transactions-per-second"] == 1 + 0  # no wall time either: counted as the original did
    assert level1["cpu-ms-web"] == pytest.approx(6 / 5) and level1["cpu-ms-kafka"] == pytest.approx(11 / 5)
    assert level1["cpu-ms-per-transaction"] == pytest.approx(17 / 5)


def test_the_results_page_tabulates_cpu_per_transaction_by_part(client, settings, tmp_path):
    settings.LOADTEST_RESULTS_DIR = tmp_path
    lines = [
        '{"baseline": {}}',
        '{"loop": 1, "generators": 0, "interaction_ms": 90, "cpu_seconds": {"command_handler": 0.0}}',
        '{"loop": 2, "generators": 0, "interaction_ms": 95, "cpu_seconds": {"command_handler": 0.0025}}',
    ]
    (tmp_path / "ramp-2026-11-26-10-00-00.jsonl").write_text("\n".join(lines))

    page = client.get("/results/").content.decode()

    assert "<th>command handler</th>" in page and "<td>ramp</td><td>2.50</td>" in page


def test_a_sweeps_runs_are_a_configuration_of_their_own_per_linger_setting(settings, tmp_path):
    """`KAFKA_LINGER_MS=10 make loadtest` once wrote `compare-...` files: averaged in with the linger.ms 0 runs."""
    for linger in (0, 10, 10):
        settings.KAFKA_LINGER_MS = linger
        (
            tmp_path / f"{results_name('compare')}-2026-11-26-14-{linger:02d}-{len(list(tmp_path.iterdir())):02d}.jsonl"
        ).touch()

    assert {name: len(paths) for name, paths in runs_by_configuration(tmp_path).items()} == {
        "compare": 1,
        "compare-linger-ms-10": 2,
    }
