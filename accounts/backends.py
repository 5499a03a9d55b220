"""The admin's login, limited like customers' logins (accounts.throttle)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from accounts.throttle import count_failure, login_refused


class ThrottledModelBackend(ModelBackend):
    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        address = request.META.get("REMOTE_ADDR") if request is not None else None
        if username is not None and login_refused(username, address):
            raise PermissionDenied  # Django's authenticate() then refuses, without asking another backend
        user = super().authenticate(request, username, password, **kwargs)
        if user is None and username is not None:
            count_failure(username, address)
        return user
