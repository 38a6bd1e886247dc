"""Signed one-click unsubscribe tokens: a token names a user and a kind of notification (or
"all"), signed with SECRET_KEY (django.core.signing). It never expires: an unsubscribe link in an
old e-mail must keep working, and all it can do is turn e-mail off."""

from __future__ import annotations

from django.core import signing

from .models import KINDS

SALT = "notifications.unsubscribe"
ALL = "all"


def unsubscribe_token(*, user_id: int, kind: str) -> str:
    if kind != ALL and kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    return signing.dumps([user_id, kind], salt=SALT)


def unsubscribe_read(token: str) -> tuple[int, str] | None:
    """(user id, kind) from a token, or None when it is not one of ours (tampered, truncated)."""
    try:
        value = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not (isinstance(value, list) and len(value) == 2):
        return None
    user_id, kind = value
    if isinstance(user_id, bool) or not isinstance(user_id, int) or (kind != ALL and kind not in KINDS):
        return None
    return user_id, kind
