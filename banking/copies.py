"""A second copy of the read model, built beside the one that serves and then put in its place at once.

The copy's tables live in a schema of their own (`NEXT`), made as Django's models say; a rebuild writes there
(`writing_to(NEXT)` in its transactions) while the projector and the web go on with the serving tables in
`public`. The switch moves the serving tables out and the copy's in, in one transaction, under a lock that every
write to the serving copy takes shared: no batch of the projector is half in the old copy and half in the new.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction

from accounts.models import Customer
from alerts.models import Alert, AlertRule, ProjectedRuleSettings
from banking.models import PendingAnswer
from kernel.databases import advisory_lock_key
from transfers.models import DailyTotal, LatestTransaction, Transaction

logger = logging.getLogger(__name__)

READ_MODEL = (
    Transaction,
    LatestTransaction,
    DailyTotal,
    Customer,
    PendingAnswer,
    AlertRule,
    ProjectedRuleSettings,
    Alert,
)
SERVING = "public"
NEXT = "read_model_next"  # the copy a rebuild builds
RETIRED = "read_model_retired"  # the copy it replaced, until it is dropped
SWITCH = advisory_lock_key(b"read model switch")
PROGRESS = "read-model-rebuild"  # in the cache every process shares: what the Status page shows
PROGRESS_KEPT = 600  # seconds: a rebuild reports every few; one that stopped reporting is forgotten
REBUILDING = advisory_lock_key(b"read model rebuild")


class AnotherRebuildRuns(Exception):
    """Two rebuilds would build one copy: each would drop what the other wrote, and one would switch it half made."""


@contextmanager
def the_only_rebuild() -> Iterator[None]:
    """Hold, on a connection of its own, the lock that says a rebuild runs; another one raises AnotherRebuildRuns.
    A rebuild killed lets it go with its connection."""
    with _connection_of_its_own() as holder, holder.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [REBUILDING])
        if not cursor.fetchone()[0]:
            raise AnotherRebuildRuns("another rebuild_projections is running: let it finish, or stop it first")
        try:
            yield
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [REBUILDING])


@contextmanager
def _connection_of_its_own() -> Iterator[Any]:
    """A database connection apart from the thread's: its locks and transaction are nobody else's."""
    holder = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        yield holder
    finally:
        holder.close()


def writing_to(copy: str) -> None:
    """Inside a transaction: write to `copy`. Writes to the serving copy take the switch lock (shared), so that
    a switch waits for them and they for it."""
    with connection.cursor() as cursor:
        if copy == SERVING:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [SWITCH])
        else:
            cursor.execute(f"SET LOCAL search_path TO {copy}, {SERVING}")


def start_next_copy() -> None:
    """Empty tables for a new copy (dropping what a rebuild killed earlier left), numbering transactions on from
    the serving copy's largest id, so that an id the web has shown never names another transaction."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {RETIRED} CASCADE")
        cursor.execute(f"DROP SCHEMA IF EXISTS {NEXT} CASCADE")
        cursor.execute(f"CREATE SCHEMA {NEXT}")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL search_path TO {NEXT}")
        with connection.schema_editor(atomic=False) as editor:
            for model in READ_MODEL:
                editor.create_model(model)
        with connection.cursor() as cursor:
            table = Transaction._meta.db_table
            cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {SERVING}.{table}")
            (first_id,) = cursor.fetchone()
            cursor.execute(f"ALTER TABLE {NEXT}.{table} ALTER COLUMN id RESTART WITH {int(first_id)}")


@contextmanager
def switch() -> Iterator[None]:
    """Hold off the serving copy's writes (once those in flight are done) while the caller brings the next copy up
    to date, then put it in place: one transaction, on a connection of its own; killed before its end, nothing
    has changed. Readers wait only for the tables to move."""
    with _connection_of_its_own() as holder:
        holder.set_autocommit(False)
        try:
            with holder.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SWITCH])
                yield
                cursor.execute(f"CREATE SCHEMA {RETIRED}")
                for model in READ_MODEL:
                    table = model._meta.db_table
                    cursor.execute(f"ALTER TABLE {SERVING}.{table} SET SCHEMA {RETIRED}")
                    cursor.execute(f"ALTER TABLE {NEXT}.{table} SET SCHEMA {SERVING}")
                    _grant_as_before(cursor, f"{RETIRED}.{table}", f"{SERVING}.{table}")
            holder.commit()
        except BaseException:
            holder.rollback()
            raise


def _grant_as_before(cursor: Any, old: str, new: str) -> None:
    """Give the roles that had rights on the table `old` the same on `new` (made by whoever rebuilt it)."""
    cursor.execute(
        "SELECT a.grantee::regrole::text, a.privilege_type FROM pg_class c, aclexplode(c.relacl) a"
        " WHERE c.oid = %s::regclass AND a.grantee NOT IN (0, c.relowner)",
        [old],
    )
    for grantee, privilege in cursor.fetchall():
        cursor.execute(f"GRANT {privilege} ON {new} TO {grantee}")


def drop_retired_copies() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {RETIRED} CASCADE")
        cursor.execute(f"DROP SCHEMA IF EXISTS {NEXT} CASCADE")


def report_progress(phase: str, replayed: int, behind: int) -> None:
    """Say where a rebuild is, for the Status page (best effort: the cache being away never stops a rebuild)."""
    try:
        cache.set(PROGRESS, {"phase": phase, "replayed": replayed, "behind": behind, "at": time.time()}, PROGRESS_KEPT)
    except Exception:  # noqa: BLE001
        logger.warning("cannot report the rebuild's progress", exc_info=True)


def rebuild_progress() -> dict[str, object] | None:
    """The last report of the running (or last) rebuild, with its age in seconds; None if none lately."""
    report = cache.get(PROGRESS)
    return None if report is None else {**report, "seconds_ago": round(time.time() - report["at"], 1)}
