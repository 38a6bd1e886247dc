"""Rate throttles whose counting is one Redis round trip.

DRF's SimpleRateThrottle keeps each client's request history as a list in the cache: a get and a
set per request (two round trips, and a lost update when two requests of one client race). Here
the same sliding window lives in a Redis sorted set, trimmed, counted and appended by one Lua
script, atomically: the same rule (at most N requests in any window of the rate's duration; a
refused request is not recorded), the same wait() (what Retry-After shows), shared by every
process. Keys carry the cache's prefix (CACHE_PREFIX), so they are cleared with the cache's keys.

Like the cache (config/cache.py) it fails open: while Redis is unreachable every request is
allowed, and the failure is logged. Without Redis (the embedded demo's local-memory cache) it is
DRF's throttle, unchanged.

A request is counted once: the verdict is remembered on the request, so a request counted early
(by api.forecasts' submission fast path, whose SQL statement counts it) and then handed to DRF's
view is not counted a second time there. A subclass may count elsewhere (window_count): the
forecast throttle counts in PostgreSQL (forecasts.window)."""

from __future__ import annotations

import logging
import os
from typing import Any

from django.core.cache import cache
from rest_framework import throttling

from .cache import UNAVAILABLE

logger = logging.getLogger(__name__)

# KEYS[1]: the history (a sorted set of request times). ARGV: now, the window in seconds, the
# number of requests allowed in it, a unique member for this request.
# Returns {1, ""} when allowed (and recorded), {0, oldest time, count} when refused (not recorded).
_WINDOW_SCRIPT = """
local now = tonumber(ARGV[1])
local duration = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - duration)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil(duration * 1000))
  return {1, ''}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, oldest[2], redis.call('ZCARD', KEYS[1])}
"""

#: The attribute of the Django request holding {throttle key: (allowed, wait)} for this request.
VERDICTS_ATTR = "signpost_throttle_verdicts"

_script = None


def _redis_script():
    """(the window script, the cache's Redis client), or None when the cache is not on Redis. The
    client is the cache's own (so settings and outages are the cache's); the script object is
    built once and run on it (EVALSHA, loading the script again if Redis lost it)."""
    global _script
    client_of = getattr(cache, "redis_client", None)
    if client_of is None:
        return None
    client = client_of()
    if _script is None:
        _script = client.register_script(_WINDOW_SCRIPT)
    return _script, client


def _verdicts(request) -> dict:
    """This request's {throttle key: (allowed, wait)}."""
    verdicts = getattr(request, VERDICTS_ATTR, None)
    if verdicts is None:
        verdicts = {}
        setattr(request, VERDICTS_ATTR, verdicts)  # on a DRF Request: its own attribute, read through
    return verdicts


class WindowRateThrottle(throttling.SimpleRateThrottle):
    """SimpleRateThrottle's sliding window, counted by one Redis script call (see the module)."""

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        return self.allow_key(request, key)

    def allow_ident(self, request, ident: Any) -> bool:
        """allow_request for the client `ident` (for a user's throttle: the user's id), keyed as
        DRF keys it, for a caller that knows the client without a DRF request."""
        if self.rate is None:
            return True
        return self.allow_key(request, self.ident_key(ident))

    def allow_key(self, request, key: str) -> bool:
        """Count `request` under `key` (once per request: a second call gives the first verdict)."""
        verdicts = _verdicts(request)
        if key in verdicts:
            allowed, self._wait = verdicts[key]
            return allowed
        now = self.timer()
        counted = self.window_count(key, now)
        if counted is None:  # no shared store (the demo without Redis): SimpleRateThrottle's counting in the cache
            self.key, self.now = key, now
            self.history = [t for t in self.cache.get(key, []) if t > self.now - self.duration]
            allowed = len(self.history) < self.num_requests
            if allowed:
                self.throttle_success()
            self._wait = None if allowed else super().wait()
            verdicts[key] = (allowed, self._wait)
            return allowed
        return self.remember(request, key, now, *counted)

    def window_count(self, key: str, now: float) -> tuple[bool, float | None, int] | None:
        """Count one request under `key` at `now` in the shared window: (allowed, the oldest time
        left in the window, how many requests it holds), or None when there is no shared store
        (no Redis). Fails open: Redis unreachable counts as allowed, and is logged."""
        redis = _redis_script()
        if redis is None:
            return None
        script, client = redis
        try:
            member = f"{now!r}:{os.urandom(6).hex()}"
            reply = script(
                keys=[cache.make_key(key)], args=[repr(now), self.duration, self.num_requests, member], client=client
            )
        except UNAVAILABLE as exc:
            logger.warning("throttle unavailable (%s): %s allowed", exc, key)
            return True, None, 0
        if reply[0]:
            return True, None, 0
        # Refused: {0, oldest, count}; {0} alone when the window is empty (a rate of 0 requests).
        return False, (float(reply[1]) if len(reply) > 1 else None), (int(reply[2]) if len(reply) > 2 else 0)

    def remember(self, request, key: str, now: float, allowed: bool, oldest: float | None, held: int) -> bool:
        """Take the verdict of a window count made at `now` (here, or by a statement that counted the
        request itself) as this request's: its wait, and no second count of it under `key`."""
        if allowed:
            self._wait = None
        else:
            # DRF's wait(): the time until the oldest request leaves the window, shared by the
            # requests still available (none when the rate was lowered below what the window holds).
            available = self.num_requests - held + 1
            remaining = self.duration if oldest is None else self.duration - (now - oldest)
            self._wait = None if available <= 0 else remaining / available
        _verdicts(request)[key] = (allowed, self._wait)
        return allowed

    def ident_key(self, ident: Any) -> str:
        """The key of the client `ident` (for a user's throttle: the user's id), as DRF keys it."""
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)


class AnonThrottle(WindowRateThrottle, throttling.AnonRateThrottle):
    """DRF's anonymous-client throttle (scope "anon", keyed by client address), counted by one
    script call."""


class UserThrottle(WindowRateThrottle, throttling.UserRateThrottle):
    """DRF's per-user throttle (scope "user"; anonymous clients by address), counted by one
    script call."""
