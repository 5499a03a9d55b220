"""What each process may do in each database: the least it needs, granted to its role after every migration.

The roles themselves are the deployment's (devstack makes one per process, with a password); a role that does
not exist is left out, so a database without them works as before. Tools, tests and migrations are the owner.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.db import DEFAULT_DB_ALIAS, connections, models, router

from accounts.models import LedgerAccount, Login
from banking.copies import READ_MODEL
from kernel.databases import LEDGER


@dataclass(frozen=True)
class Role:
    name: str
    reads: tuple[str | type[models.Model], ...] = ()  # a database alias: every table of it
    writes: tuple[type[models.Model], ...] = ()  # each also read

    def tables(self, alias: str) -> tuple[list[str], list[str]]:
        """The tables of `alias` this role reads, and those it writes."""
        writes = [m._meta.db_table for m in _with_their_links(self.writes) if _database_of(m) == alias]
        if alias in self.reads:
            return [m._meta.db_table for m in _models_of(alias)], writes
        reads = [m._meta.db_table for m in self.reads if not isinstance(m, str) and _database_of(m) == alias]
        return reads, writes


def _database_of(model: type[models.Model]) -> str:
    return router.db_for_write(model)


def _models_of(alias: str) -> list[type[models.Model]]:
    return [m for m in apps.get_models(include_auto_created=True) if _database_of(m) == alias]


def _with_their_links(written: tuple[type[models.Model], ...]) -> list[type[models.Model]]:
    """A model and the tables of its many-to-many fields (a user's groups): written together."""
    links = [f.remote_field.through for m in written for f in m._meta.local_many_to_many]
    return [*written, *(link for link in links if link is not None)]


def _ledger_models() -> tuple[type[models.Model], ...]:
    return tuple(_models_of(LEDGER))


def roles() -> tuple[Role, ...]:
    """The web reads both sides and writes only sessions, the admin's users and log, and logins (never a balance
    or an outcome); the handler owns the ledger; the projector the read model; the alerts need no database."""
    return (
        Role("bank_web", reads=(DEFAULT_DB_ALIAS, LEDGER), writes=(Session, User, LogEntry, Login)),
        Role("bank_command_handler", reads=(LEDGER,), writes=_ledger_models()),
        Role("bank_projector", reads=(DEFAULT_DB_ALIAS,), writes=READ_MODEL),
        Role("bank_alerts"),
        Role("bank_worker", reads=(DEFAULT_DB_ALIAS, Login, LedgerAccount)),  # mails: an account's verified address
    )


def grant(alias: str) -> list[str]:
    """Give each existing role exactly its rights on the tables of database `alias`; the roles granted."""
    with connections[alias].cursor() as cursor:
        if connections[alias].vendor != "postgresql":
            return []
        cursor.execute("SELECT rolname FROM pg_roles")
        existing = {row[0] for row in cursor.fetchall()}
        granted = []
        for role in roles():
            if role.name not in existing:
                continue
            reads, writes = role.tables(alias)
            name = connections[alias].ops.quote_name(role.name)
            cursor.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {name}")
            for table in reads:
                cursor.execute(f"GRANT SELECT ON {connections[alias].ops.quote_name(table)} TO {name}")
            for table in writes:
                # Ids are identity columns: INSERT on the table is enough, their sequences need no grant.
                quoted = connections[alias].ops.quote_name(table)
                cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {quoted} TO {name}")
            granted.append(role.name)
    return granted
