"""The original's aggregation (seed-inventory §8.7): rows of many runs, grouped by generator count."""

from __future__ import annotations

import csv
import json
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

REFERENCE = Path(__file__).parent / "reference" / "original-linger-ms-results.csv"


def read_rows(paths: Iterable[Path]) -> list[dict]:
    rows = []
    for path in paths:
        rows += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [row for row in rows if "loop" in row]  # the first line of a run is its ping-pong baseline


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
        item["transactions-per-second"] = 1 + len(generated) / len(level) if level else None
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
    "data-points": "data points",
}


def aggregate_runs(folder: Path) -> list[dict]:
    """Every results file in `folder`, grouped by configuration (the name before its start time)."""
    runs: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(folder.glob("*.jsonl")):
        runs[path.name.rsplit("-", 6)[0]].append(path)
    return [item for name, paths in runs.items() for item in aggregate(read_rows(paths), name)]


def load_test_results() -> list[dict]:
    """Our runs (by configuration) and the original's, aggregated; what the Results page charts."""
    from django.conf import settings

    ours = aggregate_runs(Path(settings.LOADTEST_RESULTS_DIR))
    return [_finite(item) for item in ours + original_results()]


def _finite(item: dict) -> dict:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in item.items()}
