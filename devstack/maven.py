"""Fetch jars and archives from Maven Central with the machine's `mvn`, once; later runs reuse them."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from devstack.prerequisites import find_maven
from devstack.processes import StackError

DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"


def _run(args: list[str], what: str) -> None:
    print(f"fetching {what} from Maven Central (first run only)...", flush=True)
    started = time.monotonic()
    result = subprocess.run([str(find_maven()), "-q", "-B", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise StackError(f"could not fetch {what} with Maven:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    print(f"fetched {what} in {time.monotonic() - started:.0f}s", flush=True)


def copy_dependencies(pom: Path, into: Path, what: str) -> Path:
    """Put every runtime jar that `pom` depends on into `into`; skip when a previous run finished it."""
    done = into / ".complete"
    if not done.exists() or done.read_text() != pom.read_text():
        into.mkdir(parents=True, exist_ok=True)
        _run(
            [
                "-f",
                str(pom),
                f"{DEPENDENCY_PLUGIN}:copy-dependencies",
                f"-DoutputDirectory={into}",
                "-DincludeScope=runtime",
            ],
            what,
        )
        done.write_text(pom.read_text())
    return into


def copy_artifact(coordinates: str, into: Path, what: str) -> Path:
    """Download one artifact (group:artifact:version:type:classifier) into `into` and return its path."""
    into.mkdir(parents=True, exist_ok=True)
    group, artifact, version, kind, classifier = coordinates.split(":")
    target = into / f"{artifact}-{version}-{classifier}.{kind}"
    if not target.exists():
        _run([f"{DEPENDENCY_PLUGIN}:copy", f"-Dartifact={coordinates}", f"-DoutputDirectory={into}"], what)
    if not target.exists():
        raise StackError(f"Maven reported success but {target} is missing")
    return target
