"""What a measurement needs beside its numbers to be reproduced: the settings, the code and the machine."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime

from django.conf import settings

SETTINGS_RECORDED = (
    "KAFKA_LINGER_MS",
    "DEBUG",
    "PASSWORD_HASHING_THREADS",
    "LOGINS_PER_MINUTE_PER_ADDRESS",
    "WEBSOCKETS_PER_ADDRESS",
    "COMMAND_LIMIT_EXEMPT_ADDRESSES",
)
ENVIRONMENT_RECORDED = ("DATABASE_POOL_SIZE", "DEVSTACK_PROFILE", "WEB_PROCESSES")


def run_settings() -> dict[str, str]:
    """The settings that change the numbers (the application's processes read the same environment)."""
    recorded = {name: str(getattr(settings, name, "")) for name in SETTINGS_RECORDED}
    return recorded | {name: os.environ.get(name, "") for name in ENVIRONMENT_RECORDED}


def results_name(config_name: str) -> str:
    """What a run's results are grouped under: its configuration, and the linger.ms of the original's sweep
    when it is not the default (`compare-linger-ms-10`), so that each setting is averaged on its own."""
    linger = int(settings.KAFKA_LINGER_MS)
    return config_name if linger == 0 else f"{config_name}-linger-ms-{linger}"


def machine() -> dict[str, str]:
    return {
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "node": platform.node(),
        "commit": _commit(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _commit() -> str:
    try:
        found = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return found.stdout.strip()
