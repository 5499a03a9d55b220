"""The command side's database alias: the ledger, where balances change (settings.DATABASES; bankproject.routers
sends a model there when it declares `database = LEDGER`). The read model is Django's "default"."""

import hashlib

LEDGER = "ledger"


def advisory_lock_key(name: bytes) -> int:
    """A PostgreSQL advisory lock id for `name` (an account's IBAN, a command's id): 64 bits of a hash of it."""
    return int.from_bytes(hashlib.blake2b(name, digest_size=8).digest(), "big", signed=True)
