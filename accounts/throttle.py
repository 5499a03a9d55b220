"""Login limits, counted in Django's cache (Redis: all web processes): attempts per client address, and wrong
passwords per username from each address, with a wider cap per username from all of them. Only failures count
against a username, and a stranger's count only against their own address, so nobody can lock its owner out."""

from __future__ import annotations

from django.conf import settings

from kernel.limits import count_in_window, counted_in_window

WINDOW_SECONDS = 60
TOO_MANY_ATTEMPTS = "too many login attempts; try again in a minute"


def _from(username: str, client_address: str | None) -> str:
    return f"{username}\0{client_address or ''}"


def login_refused(username: str, client_address: str | None) -> bool:
    """Count one attempt from `client_address`; True when it made too many this minute, or `username` had too
    many wrong passwords from it (or from everywhere)."""
    if client_address is not None:
        attempts = count_in_window("logins:address", client_address, WINDOW_SECONDS)
        if attempts > settings.LOGINS_PER_MINUTE_PER_ADDRESS:
            return True
    failures = counted_in_window("logins:failures", _from(username, client_address))
    everywhere = counted_in_window("logins:all-failures", username)
    return bool(
        failures >= settings.LOGIN_FAILURES_PER_MINUTE or everywhere >= settings.LOGIN_FAILURES_PER_MINUTE_PER_USERNAME
    )


def count_failure(username: str, client_address: str | None) -> None:
    """A wrong password for `username`, from `client_address`."""
    count_in_window("logins:failures", _from(username, client_address), WINDOW_SECONDS)
    count_in_window("logins:all-failures", username, WINDOW_SECONDS)
