"""The passwords of a stack's services, made on first use and kept in the profile's state, readable by this user
only: one set per checkout and profile, never in the repository."""

from __future__ import annotations

import json
import secrets

from devstack.profiles import Profile


def password(profile: Profile, name: str) -> str:
    """The password called `name` ("postgres:bank_web", "redis"), made the first time it is asked for."""
    path = profile.state / "passwords.json"
    known = json.loads(path.read_text()) if path.exists() else {}
    if name not in known:
        known[name] = secrets.token_urlsafe(24)  # URL-safe: it goes into connection URLs as it is
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(json.dumps(known, indent=2))
    return known[name]
