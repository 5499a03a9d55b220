"""The ledger as the unit of work of a batch of commands: the accounts it touches (locked up front, changed in
memory) and the commands it handled (their stored outcomes), all saved at once.

A batch is the handler's hot path, so it is two statements, not one per model: one reads the accounts (locked)
and every stored outcome the batch may repeat, one writes everything the batch did. Both are plain SQL over
JSON, built from the models' own metadata.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from django.db import DatabaseError, connections, models

from accounts.models import LedgerAccount
from kernel.databases import LEDGER, advisory_lock_key
from kernel.models import ProcessedCommand

Processed = TypeVar("Processed", bound=ProcessedCommand)
Write = tuple[str, list[Any]]  # a data-modifying statement to run with the batch's own, as a CTE: SQL, params
_TIMESTAMPS = {"created_at", "updated_at"}


class Ledger:
    """Call inside `transaction.atomic(using=LEDGER)`.

    The accounts are locked twice, in one global order, so two handlers whose batches share accounts wait
    for each other instead of deadlocking: their rows until the ledger commits, and an advisory lock of the
    connection's session until `release_account_locks()`, after the batch's events are published, so that
    no other handler publishes the same accounts' later balances before them. `commands` names, per kind of
    processed command, the ids of the batch: their stored outcomes are read with the accounts, up front.
    """

    def __init__(
        self, ibans: Iterable[str], commands: Mapping[type[ProcessedCommand], Iterable[UUID]] | None = None
    ) -> None:
        kinds = list(commands or {})
        self.time, accounts, *outcomes = _read(
            sorted(set(ibans)), {kind: list(ids) for kind, ids in (commands or {}).items()}
        )
        self._accounts = {account.iban: account for account in accounts}
        self._changed: dict[str, LedgerAccount] = {}
        self._opened: list[LedgerAccount] = []
        self._processed: dict[type[ProcessedCommand], dict[UUID, ProcessedCommand]] = {
            kind: {outcome.command_id: outcome for outcome in found}
            for kind, found in zip(kinds, outcomes, strict=True)
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

    def save(self, also: Sequence[Write] = ()) -> None:
        """Write what the batch did, and `also` (the caller's own writes), in one statement."""
        writes: list[Write] = [_insert(LedgerAccount, self._opened)] if self._opened else []
        for kind in dict.fromkeys(type(outcome) for outcome in self._handled):
            writes.append(_insert(kind, [outcome for outcome in self._handled if type(outcome) is kind]))
        if self._changed:
            balances = [{"id": account.pk, "balance": account.balance_cents} for account in self._changed.values()]
            writes.append(
                (
                    f"UPDATE {LedgerAccount._meta.db_table} AS account SET balance_cents = changed.balance, "
                    "updated_at = now() FROM jsonb_to_recordset(%s::jsonb) AS changed(id bigint, balance bigint) "
                    "WHERE account.id = changed.id",
                    [json.dumps(balances)],
                )
            )
        writes += also
        if not writes:
            return
        sql = "WITH " + ", ".join(f"w{n} AS ({statement})" for n, (statement, _) in enumerate(writes)) + " SELECT 1"
        with connections[LEDGER].cursor() as cursor:
            cursor.execute(sql, [param for _, params in writes for param in params])


def _columns(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [field for field in model._meta.concrete_fields if not (field.primary_key and field.auto_created)]


def _read(ibans: list[str], commands: dict[type[ProcessedCommand], list[UUID]]) -> list[Any]:
    """The database's clock once the accounts are locked, the accounts (locked: an advisory lock each first, in key
    order, then their rows, in IBAN order) and each kind's stored outcomes, in one statement.

    The clock is read by the aggregate of the locked rows, so after the locks: an account's changes are stamped
    in the order the ledger made them, whichever handler made them."""
    accounts = LedgerAccount._meta.db_table
    parts = [
        # The advisory locks come first: the rows' subquery waits for them (an initplan), and unnest reads the
        # sorted keys in order.
        "(SELECT json_build_array(clock_timestamp(), coalesce(json_agg(a ORDER BY a.iban), '[]')) "
        f"FROM (SELECT * FROM {accounts} "
        "WHERE iban = ANY(%s) AND (SELECT count(pg_advisory_lock(key)) FROM unnest(%s::bigint[]) AS key) >= 0 "
        "ORDER BY iban FOR UPDATE) a)"
    ]
    params: list[Any] = [ibans, sorted({advisory_lock_key(iban.encode()) for iban in ibans})]
    for kind, ids in commands.items():
        parts.append(f"(SELECT coalesce(json_agg(p), '[]') FROM {kind._meta.db_table} p WHERE command_id = ANY(%s))")
        params.append(ids)
    with connections[LEDGER].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        (now, accounts), *outcomes = cursor.fetchone()
    models_read: list[type[models.Model]] = [LedgerAccount, *commands]
    read = zip(models_read, [accounts, *outcomes], strict=True)
    found = [[_from_json(model, item) for item in rows] for model, rows in read]
    return [datetime.fromisoformat(now), *found]


def _from_json(model: type[models.Model], item: dict[str, Any]) -> Any:
    fields = model._meta.concrete_fields
    values = [_python_value(field, item[str(field.column)]) for field in fields]
    return model.from_db(LEDGER, [field.attname for field in fields], values)


def _python_value(field: models.Field[Any, Any], value: Any) -> Any:
    """A column's value as JSON gave it, as the field holds it (JSON stays as it came)."""
    return value if isinstance(field, models.JSONField) else field.to_python(value)


def _insert(model: type[models.Model], objects: Sequence[models.Model]) -> Write:
    """An INSERT of `objects`, their values as one JSON parameter; timestamps are the database's now()."""
    columns = _columns(model)
    rows = [{field.column: _json_value(field.value_from_object(obj)) for field in columns} for obj in objects]
    names = ", ".join(f'"{field.column}"' for field in columns)
    values = ", ".join("now()" if field.column in _TIMESTAMPS else f'row."{field.column}"' for field in columns)
    table = model._meta.db_table
    return (
        f"INSERT INTO {table} ({names}) SELECT {values} FROM jsonb_populate_recordset(null::{table}, %s::jsonb) row",
        [json.dumps(rows)],
    )


def _json_value(value: Any) -> Any:
    return str(value) if isinstance(value, UUID) else value


def release_account_locks() -> None:
    """Let go of every account lock the ledger's connection holds (see `Ledger`): once the batch's events are
    published, or the batch failed (before the connection goes back to the pool). A connection that cannot
    let go is closed for good: the pool discards it, and its session's locks end with it."""
    ledger = connections[LEDGER]
    if ledger.connection is None:
        return
    try:
        with ledger.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock_all()")
    except DatabaseError:
        ledger.connection.close()
        ledger.close()
