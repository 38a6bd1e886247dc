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

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
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


class OneClientPerPool(RedisCacheClient):
    """Django's client builds a new redis.Redis for every cache call, and that constructor costs
    about as much CPU as the round trip itself. A redis.Redis is thread-safe (each command takes a
    connection from the pool), so one per connection pool serves every call."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.clients: dict[int, Any] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self.clients.get(id(pool))
        if client is None:
            client = self.clients[id(pool)] = self._client(connection_pool=pool)
        return client


class FailOpenRedisCache(RedisCache):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._class = OneClientPerPool

    def redis_client(self) -> Any:
        """The redis.Redis this cache writes with, for a command the cache API lacks (the
        throttles' script, config/throttles.py). Not fail-open: the caller handles UNAVAILABLE."""
        return self._cache.get_client(write=True)

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
