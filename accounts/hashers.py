"""How customers' passwords are hashed."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class OwaspArgon2idHasher(Argon2PasswordHasher):
    """Argon2id at OWASP's minimum (19 MiB, two passes, one lane): 18 ms of CPU where PBKDF2 at Django's
    default cost spends 230 (docs/decisions.md), so a burst of first logins does not queue for seconds. A hash made
    with other parameters (Django's own Argon2 default, or PBKDF2) is made again at the next good login."""

    memory_cost = 19 * 1024  # KiB
    time_cost = 2
    parallelism = 1
