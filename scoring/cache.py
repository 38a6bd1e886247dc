"""Cached leaderboard and calibration bodies, invalidated per scope by a version token.

Every body is stored under a key that carries its scope's current version; a recompute replaces
the token after commit, so old bodies are never read again and simply expire. The cache backend
itself fails open (config/cache.py): with Redis down a read is a miss and a write is dropped."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache

BODY_TIMEOUT = 300


def scope_key(kind: str, obj_id: int | None = None) -> str:
    """ "global", "series:<id>" or "question:<id>"."""
    return "global" if kind == "global" else f"{kind}:{obj_id}"


def _version_key(key: str) -> str:
    return f"lbv:{key}"


def scope_version(key: str) -> str:
    """The cache version token of a scope. A fresh random token when none is stored (never a
    counter restarting at 0, which could revive bodies cached under an evicted version)."""
    vkey = _version_key(key)
    token = cache.get(vkey)
    if token is None:
        token = uuid.uuid4().hex
        cache.add(vkey, token, None)
        token = cache.get(vkey) or token
    return token


def scopes_invalidate(keys: Iterable[str]) -> None:
    """Give each scope a new version, so its cached bodies are no longer read."""
    for key in keys:
        cache.set(_version_key(key), uuid.uuid4().hex, None)


def body_get(key: str) -> Any:
    return cache.get(key)


def body_set(key: str, value: Any) -> None:
    cache.set(key, value, BODY_TIMEOUT)
