"""CACHE_URL's shared cache (dealdesk/ops/cache.py): one web process finds what another worked
out; Redis down is a miss, not an error, and is not asked again for a while; no value in the
Redis is ever unpickled."""

import pickle
import shutil
import socket
import subprocess
import time

import pytest
import redis

from dealdesk.ops import cache as shared
from tests.integration.test_celery_worker import _free_port, redis_url  # noqa: F401


def backend(url: str) -> shared.SharedCache:
    """One web process's view of the cache, as settings.CACHES builds it."""
    options = {"socket_connect_timeout": 0.25, "socket_timeout": 0.25}
    return shared.SharedCache(url, {"KEY_PREFIX": "dealdesk", "OPTIONS": options})


def test_what_one_process_keeps_another_finds(redis_url):  # noqa: F811
    one, other = backend(redis_url), backend(redis_url)
    at = "2026-12-07T09:30:00+00:00"

    one.set("insights:figures:x", ["<table>…</table>", at], 60)
    one.set("esign:page-png:x", b"\x89PNG\r\n\x1a\n\x00", 60)
    one.set("count", 3, 60)

    assert other.get("insights:figures:x") == ["<table>…</table>", at]
    assert other.get("esign:page-png:x") == b"\x89PNG\r\n\x1a\n\x00"
    assert other.incr("count") == 4
    assert other.get("missing", "default") == "default"


def test_a_pickle_left_in_the_redis_is_a_miss_not_code_run(redis_url, caplog):  # noqa: F811
    class Planted:
        def __reduce__(self):
            return (pytest.fail, ("a value from the Redis was unpickled",))

    cache = backend(redis_url)
    redis.Redis.from_url(redis_url).set(
        cache.make_key("insights:figures:x"), pickle.dumps(Planted())
    )

    assert cache.get("insights:figures:x", "miss") == "miss"
    assert "unreadable value" in caplog.text


def test_redis_down_is_a_miss_and_is_not_asked_again_for_a_while(
    redis_url,  # noqa: F811 - skips (or fails in CI) without redis-server, as the others
    monkeypatch,
    caplog,
):
    monkeypatch.setattr(shared, "OUTAGE_PAUSE_S", 1.0)
    port = _free_port()
    url = f"redis://127.0.0.1:{port}/0"
    cache = backend(url)

    cache.set("key", "value", 60)  # nothing listens: skipped, no error
    assert cache.get("key", "miss") == "miss"
    assert caplog.text.count("shared cache unavailable") == 1  # once per outage

    server = subprocess.Popen(  # noqa: S603
        [shutil.which("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_until_listening(port)
        redis.Redis.from_url(url).set(cache.make_key("key"), b'"back"')
        assert cache.get("key", "miss") == "miss"  # within the pause: not asked
        time.sleep(1.1)
        assert cache.get("key", "miss") == "back"
    finally:
        server.terminate()
        server.wait(10)


def _wait_until_listening(port: int) -> None:
    for _ in range(100):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("redis-server did not start")
