"""Production refuses to start on the laptop's secret key; a laptop (DEBUG on) still starts.

`check --deploy` with production variables: tests/dealdesk/test_settings.py.
"""

from tests.dealdesk.test_settings import PRODUCTION, _manage


def test_debug_off_with_the_laptop_secret_key_refuses_to_start():
    production_without_key = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = _manage("check", env=production_without_key)
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is not set" in result.stderr


def test_the_laptop_key_still_serves_a_laptop_with_debug_on():
    result = _manage("check", env={"DEBUG": "true"})
    assert result.returncode == 0, result.stderr
