"""`make up` installs redis-server beside what `make run` needs (bin/system-packages up)."""

from tests.test_system_packages import _run


def test_up_needs_redis_and_no_browser(tmp_path):
    result = _run(tmp_path, installed=False, target="up")
    assert result.returncode == 1
    assert "redis-server" in result.stderr
    assert "fonts-noto-core" in result.stderr
    assert "chromium" not in result.stderr
