"""Accounts: creating users, API tokens and login throttling."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.db import connections, router, transaction
from django.utils import timezone

from config.exceptions import DomainError
from config.prepared import fetch_one

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


#: A token's last_used_at is written at most once in this many seconds.
TOKEN_TOUCH_SECONDS = 60


def token_check_sql(*, clock: str) -> str:
    """A common table expression checking an API token inside a larger statement, the one
    statement of the rule (token_user is built on it): `tok` is the token (token_id, user_id,
    last_used_at) when it is valid at `{clock}.now` (unexpired, its user active), else empty.
    `clock` names a relation of the statement with one row and a `now` column. One parameter: the
    token's hash. The caller then calls token_touch with what it found."""
    return f"""tok AS MATERIALIZED (
    SELECT t.id AS token_id, t.user_id, t.last_used_at
    FROM accounts_apitoken t JOIN accounts_user u ON u.id = t.user_id, {clock}
    WHERE t.key_hash = %s AND t.expires_at > {clock}.now AND u.is_active
)"""  # noqa: S608 - names and constants of ours only


def token_touch(*, token_id: int, last_used_at: datetime | None, now: datetime) -> None:
    """Record that a valid token was used at `now`: its last_used_at is written at most once in
    TOKEN_TOUCH_SECONDS (a write per request would cost more than the request)."""
    if last_used_at is None or (now - last_used_at).total_seconds() > TOKEN_TOUCH_SECONDS:
        APIToken.objects.using(router.db_for_write(APIToken)).filter(pk=token_id).update(last_used_at=now)


_USER_FIELDS = [f.attname for f in User._meta.concrete_fields]
_token_user_sql = f"""WITH clock AS (SELECT %s::timestamptz AS now), {token_check_sql(clock="clock")}
SELECT tok.token_id, tok.last_used_at, {", ".join(f"u.{User._meta.get_field(name).column}" for name in _USER_FIELDS)}
FROM tok JOIN accounts_user u ON u.id = tok.user_id"""  # noqa: S608 - names and constants of ours only

# Token hash -> the id of the user the token was issued to, for the tokens this process has seen
# valid. A hint only, never the token's validity (a token never changes hands, so the id stays
# right; whether the token is still valid is checked on every request, see token_owner_hint).
_owners: dict[str, int] = {}
_OWNERS_MAX = 100_000


def token_user(*, raw: str, now: datetime | None = None) -> User | None:
    """The active user a raw token belongs to, or None if unknown or expired.

    One query (on PostgreSQL built on token_check_sql: the token and its user by the hash,
    checked), and last_used_at written at most once a minute (token_touch). Nothing about a
    token's validity is kept between calls: a revoked or expired token is refused on the next
    request."""
    now = now or timezone.now()
    alias = router.db_for_read(APIToken)
    key_hash = token_hash(raw)
    if connections[alias].vendor != "postgresql":  # SQLite (the embedded demo): the ORM, same conditions
        token = (
            APIToken.objects.using(alias)
            .select_related("user")
            .filter(key_hash=key_hash, expires_at__gt=now, user__is_active=True)
            .first()
        )
        row = None if token is None else (token.pk, token.last_used_at, token.user)
    else:
        found = fetch_one(alias, _token_user_sql, [now, key_hash])
        row = None if found is None else (found[0], found[1], User.from_db(alias, _USER_FIELDS, found[2:]))
    if row is None:
        _owners.pop(key_hash, None)
        return None
    token_id, last_used_at, user = row
    token_touch(token_id=token_id, last_used_at=last_used_at, now=now)
    if len(_owners) >= _OWNERS_MAX:
        _owners.clear()
    _owners[key_hash] = user.pk
    return user


def token_owner_hint(*, raw: str) -> tuple[str, int | None]:
    """The token's hash, and the id of its user if this process has seen the token valid before.
    The id says whose the token is, not that it is still valid: a caller that acts on it must
    check the token in the same statement as its write (token_check_sql), and call token_forget
    when that check fails."""
    key_hash = token_hash(raw)
    return key_hash, _owners.get(key_hash)


def token_forget(*, key_hash: str) -> None:
    """Drop the hint of a token found invalid (see token_owner_hint)."""
    _owners.pop(key_hash, None)
