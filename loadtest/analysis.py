"""The original's aggregation (seed-inventory §8.7): rows of many runs, grouped by generator count."""

from __future__ import annotations

import csv
import json
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from loadtest.resources import LOAD_TEST_PARTS, PARTS

REFERENCE = Path(__file__).parent / "reference" / "original-linger-ms-results.csv"


def read_rows(paths: Iterable[Path]) -> list[dict]:
    rows = []
    for path in paths:
        run = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        rows += with_what_each_loop_took([row for row in run if "loop" in row])  # line 1 is the ping-pong baseline
    return rows


def with_what_each_loop_took(run: list[dict]) -> list[dict]:
    """Each row of one run gets what its loop took since the row before it: `cpu_loop` (CPU seconds per part)
    and `loop_seconds` (wall time), when the rows say."""
    for previous, row in zip(run, run[1:], strict=False):
        if "cpu_seconds" in row and "cpu_seconds" in previous:
            before = previous["cpu_seconds"]
            row["cpu_loop"] = {part: used - before.get(part, 0.0) for part, used in row["cpu_seconds"].items()}
        if "time" in row and "time" in previous:
            row["loop_seconds"] = row["time"] - previous["time"]
    return run


def transactions_of(row: dict) -> int:
    return (row.get("interaction_ms") is not None) + len(row.get("generator_latencies_ms", []))


def _describe(prefix: str, values: list[float]) -> dict[str, float | None]:
    if not values:
        return {
            f"average-{prefix}": None,
            f"err-{prefix}": None,
            f"min-{prefix}": None,
            f"max-{prefix}": None,
            f"99-{prefix}": None,
        }
    ordered = sorted(values)
    error = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return {
        f"average-{prefix}": statistics.fmean(values),
        f"err-{prefix}": error,
        f"min-{prefix}": ordered[0],
        f"max-{prefix}": ordered[-1],
        f"99-{prefix}": ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)],
    }


def aggregate(rows: list[dict], category: str) -> list[dict]:
    """One item per generator level: latencies (mean, standard error, min, max, p99), transactions, resources."""
    by_level: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        by_level[row["generators"]].append(row)
    items = []
    for generators, level in sorted(by_level.items()):
        ui = [row["interaction_ms"] for row in level if row.get("interaction_ms") is not None]
        generated = [x for row in level for x in row.get("generator_latencies_ms", [])]
        item = {"category": category, "generators": generators, "data-points": len(ui)}
        item.update(_describe("latency", ui))
        item.update(_describe("generator-latency", generated))
        item["transactions"] = len(ui) + len(generated)
        item.update(cpu_ms_per_transaction(level))
        item["transactions-per-second"] = _per_second(level, len(generated))
        samples = [row["resources"] for row in level if row.get("resources")]
        for part in sorted({part for sample in samples for part in sample}):
            for measure in ("cpu", "mem"):
                values = [sample[part][measure] for sample in samples if part in sample]
                item[f"average-{part}-{measure}"] = statistics.fmean(values) if values else None
                item[f"err-{part}-{measure}"] = (
                    statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else None
                )
        items.append(item)
    return items


def _per_second(level: list[dict], generated: int) -> float | None:
    """Transactions a second: over the loops' own wall time when known (a loop whose browser waited more than
    a second lasts longer), else as the original counted, one browser transaction and one second a loop."""
    timed = [row for row in level if "loop_seconds" in row]  # all but a run's first loop
    if timed:
        return sum(transactions_of(row) for row in timed) / sum(row["loop_seconds"] for row in timed)
    return 1 + generated / len(level) if level else None


def cpu_ms_per_transaction(rows: list[dict]) -> dict[str, float]:
    """CPU milliseconds per transaction of every part, and of the whole system, over the rows that have it."""
    measured = [row for row in rows if "cpu_loop" in row]
    transactions = sum(transactions_of(row) for row in measured)
    if not transactions:
        return {}
    spent: dict[str, float] = defaultdict(float)
    for row in measured:
        for part, seconds in row["cpu_loop"].items():
            spent[part] += seconds
    per_part = {f"cpu-ms-{part}": 1000 * seconds / transactions for part, seconds in sorted(spent.items())}
    return {"cpu-ms-per-transaction": sum(per_part.values()), **per_part}


def original_results() -> list[dict]:
    """The original's published 2019 runs, one category per linger.ms setting (`original linger.ms=0`, ...)."""
    items = []
    with REFERENCE.open() as source:
        for row in csv.DictReader(source):
            item = {"category": f"original linger.ms={row.pop('linger_ms')}"}
            for key, value in row.items():
                item[key] = float(value) if value not in ("", None) else None
            item["generators"] = int(item["generators"])
            items.append(item)
    return items


METRICS = {
    "average-latency": "browser latency, mean (ms)",
    "99-latency": "browser latency, p99 (ms)",
    "max-latency": "browser latency, max (ms)",
    "average-generator-latency": "generator round trip, mean (ms)",
    "99-generator-latency": "generator round trip, p99 (ms)",
    "max-generator-latency": "generator round trip, max (ms)",
    "transactions-per-second": "transactions per second",
    "cpu-ms-per-transaction": "CPU per transaction, whole system (ms; ours only)",
    "data-points": "data points",
}


def runs_by_configuration(folder: Path) -> dict[str, list[Path]]:
    """The results files in `folder`, grouped by configuration (the name before the run's start time)."""
    runs: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(folder.glob("*.jsonl")):
        runs[path.name.rsplit("-", 6)[0]].append(path)
    return runs


def aggregate_runs(folder: Path) -> list[dict]:
    """Every results file in `folder`, aggregated per configuration and generator count."""
    return [item for name, paths in runs_by_configuration(folder).items() for item in aggregate(read_rows(paths), name)]


@dataclass(frozen=True)
class CpuPerTransaction:
    """One configuration's CPU milliseconds per transaction over all its runs: the whole system and each part."""

    configuration: str
    total_ms: float
    ms_by_part: dict[str, float]


def cpu_per_configuration(folder: Path) -> list[CpuPerTransaction]:
    """Ours, per configuration; the parts in one order for every configuration (what the Results page shows)."""
    table = []
    for name, paths in runs_by_configuration(folder).items():
        measured = cpu_ms_per_transaction(read_rows(paths))
        if measured:
            by_part = {
                part.replace("_", " "): measured.get(f"cpu-ms-{part}", 0.0) for part in [*PARTS, *LOAD_TEST_PARTS]
            }
            table.append(CpuPerTransaction(name, measured["cpu-ms-per-transaction"], by_part))
    return table


def load_test_results() -> list[dict]:
    """Our runs (by configuration) and the original's, aggregated; what the Results page charts."""
    from django.conf import settings

    ours = aggregate_runs(Path(settings.LOADTEST_RESULTS_DIR))
    return [_finite(item) for item in ours + original_results()]


def _finite(item: dict) -> dict:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in item.items()}
