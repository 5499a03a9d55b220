"""Logs that follow one command through every process: its id rides along in a context variable, and with
LOG_FORMAT=json each log event is one JSON line carrying it, so `grep <uuid>` finds every step."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from uuid import UUID

_command_id: ContextVar[str | None] = ContextVar("command_id", default=None)


@contextlib.contextmanager
def about_command(command_id: UUID | str) -> Iterator[None]:
    """Every log event inside the block names this command."""
    token = _command_id.set(str(command_id))
    try:
        yield
    finally:
        _command_id.reset(token)


class CommandIdFilter(logging.Filter):
    """Puts the command in hand (if any) on each record, as `command_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "command_id"):
            record.command_id = _command_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the command and the error when there are."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if command_id := getattr(record, "command_id", None):
            line["command_id"] = command_id
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)
