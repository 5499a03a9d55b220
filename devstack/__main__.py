"""Command line of the local stack.

python -m devstack run                 the stack, then migrations, topology and every Procfile process
python -m devstack exec [--profile P] -- CMD...   the stack, then CMD with its settings, then stop
python -m devstack kill|stop|start NAME [--profile P]   one process of a running stack (status: all)
python -m devstack env [--profile P]   print the settings of a profile's stack
python -m devstack clean               delete .stack/ (data, logs, downloads) and .stack.env
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from prometheus_client import multiprocess

from devstack import control, kafka, postgres, tls
from devstack.processes import ProcessSpec, StackError, Supervisor, claim, die_with_parent
from devstack.profiles import PROFILES, PROJECT_ROOT, STACK_ENV_FILE, STACK_ROOT, Profile, get_profile, read_procfile
from devstack.stack import READY_TIMEOUT, connection_settings, start_services, write_stack_env

RESTART_DELAY = 2.0


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def metrics_dir(profile: Profile) -> Path:
    """Where every process of the stack writes its Prometheus samples; the web's /metrics adds them up."""
    return profile.state / "metrics"


def fresh_metrics_dir(profile: Profile) -> None:
    shutil.rmtree(metrics_dir(profile), ignore_errors=True)
    metrics_dir(profile).mkdir(parents=True)


def application_env(profile: Profile) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    return {
        **connection_settings(profile),
        "WEB_PORT": str(profile.ports.web),
        "DEVSTACK_PROFILE": profile.name,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir(profile)),
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONUNBUFFERED": "1",
    }


def manage(env: dict[str, str], *args: str) -> None:
    print(f"manage.py {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT_ROOT, env={**os.environ, **env}, check=True)


PRINCIPALS = {"web": "web", "command-handler": "command-handler", "projector": "projector", "alerts": "alerts"}


def listening_socket(port: int) -> socket.socket:
    """The web processes' socket, bound once here and handed to each (`daphne --fd`): they share the port, and
    one that dies and restarts takes up the same socket, so clients reconnect to the same address."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("127.0.0.1", port))
    except OSError:
        listener.close()
        raise StackError(
            f"port {port}, which the web processes need, is in use by another program; stop it first"
        ) from None
    listener.listen(1024)
    listener.set_inheritable(True)
    return listener


def application_specs(profile: Profile, env: dict[str, str], web: socket.socket) -> list[ProcessSpec]:
    """Every Procfile process, as many instances as the profile asks: `web-1`, `command-handler-1`, ...

    Each talks to Kafka as its own principal (the worker, which runs load tests, as the load test's), and to
    PostgreSQL as its own role.
    """
    return [
        ProcessSpec(
            name=f"{name}-{instance}",
            argv=["sh", "-c", f"exec {command}"],
            cwd=PROJECT_ROOT,
            env={
                **env,
                **kafka.client_settings(profile, PRINCIPALS.get(name, "loadtest")),
                "DATABASE_URL": postgres.url(profile, "bank", postgres.ROLES[name]),
                "LEDGER_DATABASE_URL": postgres.url(profile, "ledger", postgres.ROLES[name]),
                "INSTANCE": str(instance),
                "PROCESS_NAME": f"{name}-{instance}",
                "WEB_FD": str(web.fileno()),
            },
            pass_fds=(web.fileno(),) if name == "web" else (),
        )
        for name, command in read_procfile().items()
        for instance in range(1, profile.instances.get(name, 1) + 1)
    ]


def start_applications(profile: Profile, supervisor: Supervisor, web: socket.socket) -> list[str]:
    """Migrate both databases, sync the topology, start every Procfile process; return their names."""
    write_stack_env(profile)
    env = application_env(profile)
    manage(env, "migrate", "--database=ledger", "--no-input")  # first: the read side's migrations may copy to it
    manage(env, "migrate", "--database=default", "--no-input")
    manage(env, "sync_topology", "--wait=60")
    return [supervisor.start(spec).spec.name for spec in application_specs(profile, env, web)]


def restart_the_dead(profile: Profile, supervisor: Supervisor, apps: list[str]) -> None:
    """Start again each application process that exited without being asked to."""
    for name in apps:
        process = supervisor.processes.get(name)
        if name not in supervisor.down_on_purpose and process and not process.alive():
            print(f"{name} exited with status {process.popen.returncode}; restarting it", flush=True)
            multiprocess.mark_process_dead(process.popen.pid, str(metrics_dir(profile)))
            time.sleep(RESTART_DELAY)
            supervisor.restart(name)


def run(profile: Profile) -> int:
    """Everything `make run` does; returns when Ctrl-C or SIGTERM arrives, after stopping all."""
    supervisor = Supervisor(pid_dir=profile.state / "pids")
    controls = web = None
    try:
        controls = control.ControlServer(profile, READY_TIMEOUT)
        web = listening_socket(profile.ports.web)
        start_services(profile, supervisor)
        fresh_metrics_dir(profile)
        services = list(supervisor.processes)
        apps = start_applications(profile, supervisor, web)
        print(
            f"\nThe bank is running at http://127.0.0.1:{profile.ports.web} (settings in {STACK_ENV_FILE.name}). "
            "Ctrl-C stops it.\n",
            flush=True,
        )
        while True:
            controls.serve(supervisor, wait=0.5)
            for name in services:
                process = supervisor.processes.get(name)
                if name not in supervisor.down_on_purpose and process and not process.alive():
                    raise StackError(f"{name} stopped unexpectedly.{process.log_tail()}")
            restart_the_dead(profile, supervisor, apps)
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
        return 0
    finally:
        stop_everything(controls, supervisor, web)
        STACK_ENV_FILE.unlink(missing_ok=True)


def exec_command(profile: Profile, command: list[str], with_apps: bool = False) -> int:
    """Start the profile's stack (and, `with_apps`, the application), run `command` against it, stop it all,
    return the command's status."""
    supervisor = Supervisor(pid_dir=profile.state / "pids")
    controls = web = None
    apps: list[str] = []
    try:
        controls = control.ControlServer(profile, READY_TIMEOUT)
        start_services(profile, supervisor)
        fresh_metrics_dir(profile)
        if with_apps:
            web = listening_socket(profile.ports.web)
            apps = start_applications(profile, supervisor, web)
        child = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env={**os.environ, **application_env(profile)}, preexec_fn=die_with_parent()
        )
        while child.poll() is None:
            controls.serve(supervisor, wait=0.5)
            restart_the_dead(profile, supervisor, apps)
        return child.returncode
    except KeyboardInterrupt:
        return 130
    finally:
        stop_everything(controls, supervisor, web)
        if with_apps:
            STACK_ENV_FILE.unlink(missing_ok=True)


def stop_everything(controls: control.ControlServer | None, supervisor: Supervisor, web: socket.socket | None) -> None:
    """The control socket first (no more requests), then every process, then the web's listening socket."""
    if controls:
        controls.close()
    supervisor.stop_all()
    if web:
        web.close()


def kafka_settings_from_environment() -> dict[str, str]:
    settings = {"bootstrap.servers": os.environ["KAFKA_BOOTSTRAP_SERVERS"]}
    if os.environ.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT") != "PLAINTEXT":
        settings |= {
            "security.protocol": os.environ["KAFKA_SECURITY_PROTOCOL"],
            "ssl.ca.location": os.environ["KAFKA_SSL_CA_LOCATION"],
            "ssl.certificate.location": os.environ["KAFKA_SSL_CERTIFICATE_LOCATION"],
            "ssl.key.location": os.environ["KAFKA_SSL_KEY_LOCATION"],
        }
    return settings


def clean() -> int:
    """Delete all local state, unless a stack is running; what a dead supervisor left behind is stopped."""
    for pid_dir in STACK_ROOT.glob("*/pids"):
        claim(pid_dir)
    shutil.rmtree(STACK_ROOT, ignore_errors=True)
    STACK_ENV_FILE.unlink(missing_ok=True)
    print(f"removed {STACK_ROOT}")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="run the whole application (make run, make run-cluster)")
    run_parser.add_argument("--profile", default="run", choices=list(PROFILES))
    exec_parser = commands.add_parser("exec", help="run a command against a stack of its own (make test)")
    exec_parser.add_argument("--profile", default="test", choices=list(PROFILES))
    exec_parser.add_argument("--with-apps", action="store_true", help="start the Procfile's processes too")
    exec_parser.add_argument("cmd", nargs=argparse.REMAINDER)
    for action in control.ACTIONS:
        act = commands.add_parser(action, help=f"{action} one process of a running stack")
        if action != "status":
            act.add_argument("name", help="e.g. kafka, registry, postgres, redis, web-1, command-handler-1")
        act.add_argument("--profile", default=os.environ.get("DEVSTACK_PROFILE", "run"), choices=list(PROFILES))
    certs = commands.add_parser("certificates", help="make a local CA and a certificate per principal (PEM) in DIR")
    certs.add_argument("folder", type=Path)
    certs.add_argument("--host", action="append", default=[], help="another name the brokers answer to")
    commands.add_parser("acls", help="grant every principal's ACLs, as the admin in KAFKA_* (docker-compose)")
    env_parser = commands.add_parser("env", help="print a profile's connection settings")
    env_parser.add_argument("--profile", default="run", choices=list(PROFILES))
    commands.add_parser("clean", help="delete all local state (make clean)")
    args = parser.parse_args(argv)

    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        if args.command == "run":
            return run(get_profile(args.profile))
        if args.command == "exec":
            command = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
            if not command:
                parser.error("exec needs a command after --")
            return exec_command(get_profile(args.profile), command, with_apps=args.with_apps)
        if args.command in control.ACTIONS:
            print(control.request(get_profile(args.profile), args.command, getattr(args, "name", "")))
            return 0
        if args.command == "certificates":
            print(f"certificates in {tls.ensure_certificates(args.folder, tuple(args.host))}")
            return 0
        if args.command == "acls":
            kafka.grant_acls_with(kafka_settings_from_environment())
            print("ACLs granted")
            return 0
        if args.command == "env":
            for key, value in connection_settings(get_profile(args.profile)).items():
                print(f"{key}={value}")
            return 0
        return clean()
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as error:
        print(f"error: {' '.join(map(str, error.cmd))} failed with status {error.returncode}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
