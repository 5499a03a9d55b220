"""Apicurio Registry 3, the schema registry, from its runnable archive on Maven Central.

We talk to it only through its Confluent-compatible API, so any Confluent-compatible registry could
stand in (docker-compose runs the same registry from its image).
"""

from __future__ import annotations

import tarfile
import urllib.error
import urllib.request

from devstack import maven
from devstack.prerequisites import find_java
from devstack.processes import ProcessSpec, StackError
from devstack.profiles import DOWNLOADS, Profile

VERSION = "3.3.3"
ARCHIVE = f"io.apicurio:apicurio-registry-app:{VERSION}:tar.gz:all"
MINIMUM_JAVA = 21  # Apicurio Registry 3.3 is built for Java 21
CONFLUENT_API = "/apis/ccompat/v7"


def confluent_url(profile: Profile) -> str:
    return f"http://127.0.0.1:{profile.ports.registry}{CONFLUENT_API}"


def management_port(profile: Profile) -> int:
    return profile.ports.registry + 1000


def _unpacked() -> str:
    """Download and unpack the archive once; return the path of its quarkus-run.jar."""
    home = DOWNLOADS / f"apicurio-registry-{VERSION}"
    runner = home / "quarkus-run.jar"
    if not runner.exists():
        archive = maven.copy_artifact(ARCHIVE, DOWNLOADS, f"Apicurio Registry {VERSION}")
        partial = home.with_suffix(".partial")
        with tarfile.open(archive) as tar:
            tar.extractall(partial, filter="data")
        if not (partial / "quarkus-run.jar").exists():
            raise StackError(f"{archive} has no quarkus-run.jar at its top; its layout changed")
        partial.rename(home)
    return str(runner)


def spec(profile: Profile) -> ProcessSpec:
    java = find_java(MINIMUM_JAVA)
    runner = _unpacked()
    root = profile.state / "registry"
    root.mkdir(parents=True, exist_ok=True)
    port = profile.ports.registry
    return ProcessSpec(
        name="registry",
        argv=[
            str(java),
            "-Xmx256m",
            "-XX:+UseSerialGC",
            "-Dquarkus.http.host=127.0.0.1",
            f"-Dquarkus.http.port={port}",
            "-Dquarkus.management.host=127.0.0.1",
            f"-Dquarkus.management.port={management_port(profile)}",
            # Schemas live in an H2 database file in the state folder, so they survive a restart.
            "-Dapicurio.storage.kind=sql",
            "-Dapicurio.storage.sql.kind=h2",
            # WRITE_DELAY=0: a schema registered just before a kill -9 is still there after the restart.
            f"-Dapicurio.datasource.url=jdbc:h2:file:{root / 'h2' / 'registry'};WRITE_DELAY=0",
            "-Dquarkus.log.level=WARN",
            '-Dquarkus.log.category."io.quarkus.config".level=ERROR',
            '-Dquarkus.log.category."io.quarkus.runtime.configuration".level=ERROR',
            "-Dquarkus.http.access-log.enabled=false",
            "-Dquarkus.banner.enabled=false",
            "-jar",
            runner,
        ],
        cwd=root,
        ports=(port, management_port(profile)),
        log=profile.logs / "registry.log",
        ready=lambda: _is_ready(profile),
        stop_timeout=30,
    )


def _is_ready(profile: Profile) -> bool:
    try:
        health = f"http://127.0.0.1:{management_port(profile)}/health/ready"
        with urllib.request.urlopen(health, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False
