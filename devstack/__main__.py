"""Command line of the local stack.

python -m devstack run                 the stack, then migrations, topology and every Procfile process
python -m devstack exec [--profile P] -- CMD...   the stack, then CMD with its settings, then stop
python -m devstack env [--profile P]   print the settings of a profile's stack
python -m devstack clean               delete .stack/ (data, logs, downloads) and .stack.env
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from devstack.processes import ProcessSpec, StackError, Supervisor
from devstack.profiles import PROJECT_ROOT, STACK_ENV_FILE, STACK_ROOT, Profile, get_profile
from devstack.stack import connection_settings, start_services, write_stack_env

PROCFILE = PROJECT_ROOT / "Procfile"
RESTART_DELAY = 2.0


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def application_env(profile: Profile) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    return {
        **connection_settings(profile),
        "WEB_PORT": str(profile.ports.web),
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONUNBUFFERED": "1",
    }


def manage(env: dict[str, str], *args: str) -> None:
    print(f"manage.py {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT_ROOT, env={**os.environ, **env}, check=True)


def read_procfile() -> dict[str, str]:
    """Parse the Procfile: one `name: command` a line, # for comments."""
    processes = {}
    for line in PROCFILE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, command = line.split(":", 1)
            processes[name.strip()] = command.strip()
    return processes


def run(profile: Profile) -> int:
    """Everything `make run` does; returns when Ctrl-C or SIGTERM arrives, after stopping all."""
    supervisor = Supervisor(pid_dir=profile.state / "pids")
    try:
        start_services(profile, supervisor)
        services = list(supervisor.running)
        write_stack_env(profile)
        env = application_env(profile)
        manage(env, "migrate", "--database=default", "--no-input")
        manage(env, "migrate", "--database=ledger", "--no-input")
        manage(env, "sync_topology", "--wait=60")
        specs = {
            name: ProcessSpec(name=name, argv=["sh", "-c", f"exec {command}"], cwd=PROJECT_ROOT, env=env)
            for name, command in read_procfile().items()
        }
        apps = {name: supervisor.start(spec) for name, spec in specs.items()}
        print(
            f"\nThe bank is running at {env['WEB_URL']} (settings in {STACK_ENV_FILE.name}). Ctrl-C stops it.\n",
            flush=True,
        )
        while True:
            time.sleep(0.5)
            for service in services:
                if not service.alive():
                    raise StackError(f"{service.spec.name} stopped unexpectedly.{service.log_tail()}")
            for name, app in list(apps.items()):
                if not app.alive():
                    print(f"{name} exited with status {app.popen.returncode}; restarting it", flush=True)
                    supervisor.running.remove(app)
                    time.sleep(RESTART_DELAY)
                    apps[name] = supervisor.start(specs[name])
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
        return 0
    finally:
        supervisor.stop_all()
        STACK_ENV_FILE.unlink(missing_ok=True)


def exec_command(profile: Profile, command: list[str]) -> int:
    """Start the profile's stack, run `command` against it, stop the stack, return the command's status."""
    supervisor = Supervisor(pid_dir=profile.state / "pids")
    try:
        start_services(profile, supervisor)
        result = subprocess.run(command, cwd=PROJECT_ROOT, env={**os.environ, **application_env(profile)})
        return result.returncode
    except KeyboardInterrupt:
        return 130
    finally:
        supervisor.stop_all()


def clean() -> int:
    for profile_dir in STACK_ROOT.glob("*/pids"):
        if any(profile_dir.iterdir()):
            print(f"a stack seems to be running ({profile_dir}); stop it first", file=sys.stderr)
            return 1
    shutil.rmtree(STACK_ROOT, ignore_errors=True)
    STACK_ENV_FILE.unlink(missing_ok=True)
    print(f"removed {STACK_ROOT}")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="run the whole application (make run)")
    exec_parser = commands.add_parser("exec", help="run a command against a stack of its own (make test)")
    exec_parser.add_argument("--profile", default="test", choices=["run", "test"])
    exec_parser.add_argument("cmd", nargs=argparse.REMAINDER)
    env_parser = commands.add_parser("env", help="print a profile's connection settings")
    env_parser.add_argument("--profile", default="run", choices=["run", "test"])
    commands.add_parser("clean", help="delete all local state (make clean)")
    args = parser.parse_args(argv)

    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        if args.command == "run":
            return run(get_profile("run"))
        if args.command == "exec":
            command = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
            if not command:
                parser.error("exec needs a command after --")
            return exec_command(get_profile(args.profile), command)
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
