"""Load-test configurations: TOML files with the original's settings (seed-inventory §8.2)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

CONFIGS = Path(__file__).parent / "configs"


@dataclass(frozen=True)
class LoadTestConfig:
    name: str
    max_interaction_ms: int
    min_loop_ms: int
    max_loops: int
    max_time_outs: int
    loops_per_generator: int
    loops_for_success: int
    accounts_first: bool = False  # open every generator's accounts before the first loop, outside the timed loops


def load_config(name_or_path: str) -> LoadTestConfig:
    """`it`, `demo`, `full`, or the path of a TOML file of your own with the same keys."""
    path = Path(name_or_path)
    if not path.suffix:
        path = CONFIGS / f"{name_or_path}.toml"
    data = tomllib.loads(path.read_text())
    numbers = {f.name for f in fields(LoadTestConfig) if f.type == "int"}
    missing = numbers - data.keys()
    if missing:
        raise ValueError(f"{path} lacks {', '.join(sorted(missing))}")
    unknown = data.keys() - {f.name for f in fields(LoadTestConfig)}
    if unknown:
        raise ValueError(f"{path} has unknown keys {', '.join(sorted(unknown))}")
    return LoadTestConfig(
        name=path.stem, **{key: int(data[key]) for key in numbers}, accounts_first=bool(data.get("accounts_first"))
    )


def generators_in(config: LoadTestConfig) -> int:
    """How many generators join before the last loop."""
    return (config.max_loops - 1) // config.loops_per_generator
