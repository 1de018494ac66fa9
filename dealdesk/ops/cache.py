"""The shared cache (CACHE_URL, redis://): what one web process works out, the others find.

A cache is a saving, never a dependency: with Redis down or slow, a read is a miss and a
write is skipped, after at most the socket timeout, and for OUTAGE_PAUSE_S after a failure
the cache is not even asked (a page pays no timeout per lookup while Redis is away). Values
are JSON or raw bytes, never pickles: whoever can write to the Redis must not be able to run
code in the web processes by leaving a crafted value there.
"""

import json
import logging
import threading
import time
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger(__name__)

OUTAGE_PAUSE_S = 10.0
_BYTES = b"\x00"  # no JSON text starts with a NUL


class JsonSerializer:
    """bytes as they are (a page's PNG), anything else as JSON (ints stay plain JSON numbers,
    which Redis's INCR reads)."""

    def dumps(self, obj: Any) -> bytes:
        if isinstance(obj, bytes):
            return _BYTES + obj
        return json.dumps(obj, separators=(",", ":")).encode()

    def loads(self, data: bytes) -> Any:
        if data.startswith(_BYTES):
            return data[1:]
        return json.loads(data)


class _ForgivingClient(RedisCacheClient):
    """Django's client, whose lookups miss and whose writes are skipped while Redis fails."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def _or(self, fallback: Any, method: str, *args: Any) -> Any:
        """Django's `method`, or `fallback` when Redis fails (or failed a moment ago)."""
        if time.monotonic() < self._paused_until:
            return fallback
        try:
            return getattr(RedisCacheClient, method)(self, *args)
        except ValueError:  # not JSON nor our bytes: not a value we wrote
            logger.warning("shared cache: an unreadable value under %r ignored", args[0])
            return fallback
        except self._lib.RedisError as exc:
            with self._lock:
                if time.monotonic() >= self._paused_until:
                    logger.warning(
                        "shared cache unavailable, not asked for %.0f s: %s", OUTAGE_PAUSE_S, exc
                    )
                self._paused_until = time.monotonic() + OUTAGE_PAUSE_S
            return fallback

    def get(self, key, default):
        return self._or(default, "get", key, default)

    def get_many(self, keys):
        return self._or({}, "get_many", keys)

    def has_key(self, key):
        return self._or(False, "has_key", key)

    def set(self, key, value, timeout):
        self._or(None, "set", key, value, timeout)

    def set_many(self, data, timeout):
        self._or(None, "set_many", data, timeout)
        return []

    def add(self, key, value, timeout):
        return self._or(False, "add", key, value, timeout)

    def touch(self, key, timeout):
        return self._or(False, "touch", key, timeout)

    def delete(self, key):
        return self._or(False, "delete", key)

    def delete_many(self, keys):
        self._or(None, "delete_many", keys)


class SharedCache(RedisCache):
    """CACHE_URL's backend (settings.CACHES): Django's RedisCache, forgiving and pickle-free."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = _ForgivingClient
        self._options = {"serializer": JsonSerializer, **self._options}
