"""Accounts: creating users, API tokens and login throttling."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from config.exceptions import DomainError

from .models import APIToken, User


class LoginRefused(DomainError):
    code = "authentication_failed"
    http_status = 400


class LoginLocked(DomainError):
    code = "locked_out"
    http_status = 429


def user_create(
    *,
    username: str,
    password: str | None = None,
    display_name: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
    exists_ok: bool = False,
) -> User:
    """Create a user; the one way accounts come to exist (sign-up, import_history, the demo).

    `password=None` gives an unusable password (a user imported or simulated, who cannot log in
    until a password is set). With `exists_ok` an existing user of that username is returned
    unchanged instead of refused."""
    if not isinstance(username, str) or not username.strip():
        raise DomainError("must be a non-empty username", field="username")
    if len(username) > 150:
        raise DomainError("must be at most 150 characters", field="username")
    if not isinstance(display_name, str) or len(display_name) > 80:
        raise DomainError("must be text of at most 80 characters", field="display_name")
    with transaction.atomic():
        existing = User.objects.filter(username=username).first()
        if existing is not None:
            if exists_ok:
                return existing
            raise DomainError("a user with this username already exists", field="username", code="taken")
        user = User(username=username, display_name=display_name, is_staff=is_staff, is_superuser=is_superuser)
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save()
    return user


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _failure_key(username: str, ip: str) -> str:
    return f"login-failures:{token_hash(username.lower())[:24]}:{ip}"


def login_check(*, username: str, password: str, ip: str) -> User:
    """Authenticate, refusing a username+IP pair after LOGIN_MAX_FAILURES failures in the window."""
    key = _failure_key(username, ip)
    failures = cache.get(key, 0)
    if failures >= settings.LOGIN_MAX_FAILURES:
        raise LoginLocked("Too many failed log-ins; try again later.", field="username")
    user = authenticate(username=username, password=password)
    if user is None or not user.is_active:
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, settings.LOGIN_LOCKOUT_SECONDS)
        raise LoginRefused("Unable to log in with the given username and password.", field="password")
    cache.delete(key)
    return user


def token_create(*, user: User) -> tuple[str, APIToken]:
    """Create a token for `user`; returns the raw secret (never stored) and the row."""
    raw = secrets.token_urlsafe(32)
    with transaction.atomic():
        token = APIToken.objects.create(
            user=user,
            key_hash=token_hash(raw),
            prefix=raw[:8],
            expires_at=timezone.now() + settings.API_TOKEN_LIFETIME,
        )
    return raw, token


def token_user(*, raw: str, now: datetime | None = None) -> User | None:
    """The active user a raw token belongs to, or None if unknown or expired."""
    now = now or timezone.now()
    token = APIToken.objects.select_related("user").filter(key_hash=token_hash(raw)).first()
    if token is None or token.expires_at <= now or not token.user.is_active:
        return None
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        APIToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
