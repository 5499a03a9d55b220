"""The ledger as the unit of work of a batch of commands: the accounts it touches (locked up front, changed in
memory) and the commands it handled (their stored outcomes), all saved at once."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from typing import TypeVar
from uuid import UUID

from django.db import DatabaseError, connections
from django.utils import timezone

from accounts.models import LedgerAccount
from kernel.models import ProcessedCommand

Processed = TypeVar("Processed", bound=ProcessedCommand)


class Ledger:
    """Call inside `transaction.atomic(using="ledger")`.

    Rows are locked in IBAN order, so two handler processes whose batches share accounts wait for each
    other instead of deadlocking. `commands` names, per kind of processed command, the ids of the batch:
    their stored outcomes are read once, up front.
    """

    def __init__(
        self, ibans: Iterable[str], commands: Mapping[type[ProcessedCommand], Iterable[UUID]] | None = None
    ) -> None:
        wanted = sorted(set(ibans))
        self._accounts = {
            account.iban: account
            for account in LedgerAccount.objects.select_for_update().filter(iban__in=wanted).order_by("iban")
        }
        self._changed: dict[str, LedgerAccount] = {}
        self._opened: list[LedgerAccount] = []
        self._processed: dict[type[ProcessedCommand], dict[UUID, ProcessedCommand]] = {
            kind: kind._default_manager.in_bulk(list(ids)) for kind, ids in (commands or {}).items()
        }
        self._handled: list[ProcessedCommand] = []

    def processed(self, kind: type[Processed], command_id: UUID) -> Processed | None:
        """The stored outcome of a command handled before (in an earlier batch, or earlier in this one)."""
        found = self._processed.setdefault(kind, {}).get(command_id)
        return found if isinstance(found, kind) else None

    def handled(self, outcome: ProcessedCommand) -> None:
        """Keep a command's outcome, to be saved with the batch."""
        self._processed.setdefault(type(outcome), {})[outcome.command_id] = outcome
        self._handled.append(outcome)

    def get(self, iban: str) -> LedgerAccount | None:
        return self._accounts.get(iban)

    def is_taken(self, iban: str) -> bool:
        return iban in self._accounts or LedgerAccount.objects.filter(iban=iban).exists()

    def open(self, *, username: str, iban: str, token: str) -> LedgerAccount:
        account = LedgerAccount(username=username, iban=iban, token=token)
        self._accounts[iban] = account
        self._opened.append(account)
        return account

    def change_balance(self, account: LedgerAccount, by_cents: int) -> None:
        account.balance_cents += by_cents
        if account.pk is not None:
            self._changed[account.iban] = account

    def save(self) -> None:
        LedgerAccount.objects.bulk_create(self._opened)
        for kind in {type(outcome) for outcome in self._handled}:
            kind._default_manager.bulk_create([outcome for outcome in self._handled if type(outcome) is kind])
        now = timezone.now()
        for account in self._changed.values():
            account.updated_at = now
        # An upsert of rows that all exist is an UPDATE in one statement. bulk_update would build a
        # CASE WHEN per row, which cost five times as much (41 against 7 ms for 200 accounts).
        LedgerAccount.objects.bulk_create(
            self._changed.values(),
            update_conflicts=True,
            unique_fields=["id"],
            update_fields=["balance_cents", "updated_at"],
        )


def lock_key(iban: str) -> int:
    """The advisory lock id of an account: 64 bits of a hash of its IBAN."""
    return int.from_bytes(hashlib.blake2b(iban.encode(), digest_size=8).digest(), "big", signed=True)


class AccountLocks:
    """PostgreSQL advisory locks on accounts, held on a connection of their own so they can outlive a ledger
    transaction: until the events of a batch are published, no other handler may publish the same accounts'
    later balances before them. Taken in one global order, so two handlers wait rather than deadlock.
    """

    def __init__(self) -> None:
        self._database = connections["ledger"].copy()

    @contextlib.contextmanager
    def holding(self, ibans: Iterable[str]) -> Iterator[None]:
        keys = sorted({lock_key(iban) for iban in ibans})
        if not keys:
            yield
            return
        try:
            with self._database.cursor() as cursor:
                # unnest reads the sorted array in order, so the locks are taken in that order.
                cursor.execute("SELECT count(pg_advisory_lock(key)) FROM unnest(%s::bigint[]) AS key", [keys])
        except DatabaseError:
            self._database.close()  # the next attempt starts on a new connection
            raise
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        try:
            with self._database.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock_all()")
        except DatabaseError:
            self._database.close()  # a closed connection holds no locks either

    def close(self) -> None:
        self._database.close()
