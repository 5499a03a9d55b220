"""The application's settings with a password hasher that waits until the test opens a gate (a file).

While it waits, it holds whatever thread it runs on, without using the CPU: a test can tell whether
anything else has to wait for that thread.
"""

import os
import time
from pathlib import Path

from django.contrib.auth.hashers import PBKDF2PasswordHasher

from bankproject.settings import *  # noqa: F403


class GatedHasher(PBKDF2PasswordHasher):
    algorithm = "gated_pbkdf2"
    iterations = 1000

    def encode(self, password, salt, iterations=None):
        gate = Path(os.environ["HASHING_GATE"])
        deadline = time.monotonic() + 60
        while not gate.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return super().encode(password, salt, iterations)


PASSWORD_HASHERS = ["testing.slow_hashing_settings.GatedHasher"]
