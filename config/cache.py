"""The Django cache on Redis, failing open: when Redis is unreachable a read is a miss and a write
is dropped, instead of an error that would turn every throttled API request into a 500.

What uses the cache, and what failing open means for it:
- throttles (forecast submission, log-in, per user and anonymous): not enforced while Redis is down;
- log-in lock-out counters: not counted while Redis is down (the price of staying up during an
  outage; every failed cache call is logged, so the outage is visible);
- leaderboard and calibration bodies: read from the database instead.
Nothing of record lives in the cache (sessions and scores are in PostgreSQL)."""

from __future__ import annotations

import functools
import logging
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError)


def _fail_open(default: Any = None, *, use_delta: bool = False):
    def wrap(method):
        @functools.wraps(method)
        def inner(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except UNAVAILABLE as exc:
                logger.warning("cache unavailable (%s): %s treated as a miss", exc, method.__name__)
                if use_delta:
                    return kwargs.get("delta", args[1] if len(args) > 1 else 1)
                if method.__name__ == "get":
                    return kwargs.get("default", args[1] if len(args) > 1 else None)
                return default

        return inner

    return wrap


class FailOpenRedisCache(RedisCache):
    get = _fail_open()(RedisCache.get)
    get_many = _fail_open({})(RedisCache.get_many)
    has_key = _fail_open(False)(RedisCache.has_key)
    add = _fail_open(False)(RedisCache.add)
    set = _fail_open()(RedisCache.set)
    set_many = _fail_open([])(RedisCache.set_many)
    touch = _fail_open(False)(RedisCache.touch)
    delete = _fail_open(False)(RedisCache.delete)
    delete_many = _fail_open()(RedisCache.delete_many)
    incr = _fail_open(use_delta=True)(RedisCache.incr)
    clear = _fail_open(False)(RedisCache.clear)
