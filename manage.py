#!/usr/bin/env python
"""Django's command-line utility. Reads `.stack.env` (written by `make run`) so commands reach the running stack."""

import os
import sys
from pathlib import Path


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankproject.settings")
    stack_env = Path(__file__).resolve().parent / ".stack.env"
    if stack_env.exists():
        import environ

        environ.Env.read_env(stack_env)  # variables already set in the environment win
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
