"""Cached leaderboard and calibration bodies, invalidated per scope by a version token.

Every body is stored under a key that carries its scope's current version; a recompute replaces
the token after commit, so old bodies are never read again and simply expire. The cache backend
itself fails open (config/cache.py): with Redis down a read is a miss and a write is dropped.

Rendered pages (`page_get`, `page_set`) are the other way round: stored under a key without the
version, with the version they were read under inside the value, so that a warm read fetches the
current token and the page in one round trip (MGET) and serves the page only if the two match."""

from __future__ import annotations

import hashlib
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


def _page_key(key: str, variant: str) -> str:
    return f"lbp:{key}:{hashlib.sha256(variant.encode()).hexdigest()[:32]}"


def page_get(key: str, variant: str) -> bytes | None:
    """The rendered page `variant` of scope `key` stored by page_set, if it was stored under the
    scope's current version token; None otherwise (never stored, expired, an older version, no
    token, Redis down). One round trip: the token and the page in one MGET."""
    vkey, pkey = _version_key(key), _page_key(key, variant)
    found = cache.get_many([vkey, pkey])
    token, stored = found.get(vkey), found.get(pkey)
    if token is None or not isinstance(stored, tuple) or stored[0] != token:
        return None
    return stored[1]


def page_set(key: str, variant: str, version: str, data: bytes) -> None:
    """Store a rendered page of scope `key`. `version` must be the scope's token read before the
    data it shows (leaderboard_read_versioned returns it): a recompute committed after that read
    has replaced the token, so the page is never served."""
    cache.set(_page_key(key, variant), (version, data), BODY_TIMEOUT)
