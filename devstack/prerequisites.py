"""Find the tools the stack needs on this machine, or stop with one line that says what to install."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from devstack.processes import StackError

# Kafka 4 needs Java 17; Apicurio Registry 3.3 needs Java 21. The newest JDK found runs both.
MINIMUM_JAVA = 17
JVM_DIRS = (Path("/usr/lib/jvm"), Path("/opt/java"))


def java_version(java: Path) -> int:
    output = subprocess.run([str(java), "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)', output)
    return int(match.group(1)) if match else 0


def find_java(minimum: int = MINIMUM_JAVA) -> Path:
    """Return the newest `java` at least `minimum`: $JAVA_HOME first, then PATH, then the usual JVM folders."""
    candidates: list[Path] = []
    if os.environ.get("JAVA_HOME"):
        candidates.append(Path(os.environ["JAVA_HOME"]) / "bin" / "java")
    on_path = shutil.which("java")
    if on_path:
        candidates.append(Path(on_path).resolve())
    for folder in JVM_DIRS:
        if folder.is_dir():
            candidates.extend(sorted(folder.glob("*/bin/java")))
    versions = {java: java_version(java) for java in candidates if java.exists()}
    suitable = [java for java, version in versions.items() if version >= minimum]
    if not suitable:
        found = ", ".join(f"{java} ({version})" for java, version in versions.items()) or "none"
        raise StackError(
            f"Java {minimum} or newer is needed (found: {found}); install e.g. openjdk-{minimum}-jdk-headless."
        )
    return max(suitable, key=lambda java: versions[java])


def find_maven() -> Path:
    mvn = shutil.which("mvn")
    if not mvn:
        raise StackError("Maven is needed to fetch the Kafka and registry jars; install it (apt-get install maven).")
    return Path(mvn)
