"""The test run's settings: the real ones, served over plain http by the test servers.

Everything else still comes from the environment (DATABASE_URL selects PostgreSQL in CI).
"""

import os

# Tests run with DEBUG off, where dealdesk.settings refuses its laptop key: give the run (and
# the worker processes it starts, which inherit the environment) a key of its own.
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-any-deployment")
# Tests run as production does (DEBUG off), whatever a laptop's .env says.
os.environ["DEBUG"] = "false"
os.environ.setdefault("AUDIT_CHAIN_KEY", "tests-only-audit-chain-key-not-for-any-deployment")

from dealdesk.settings import *  # noqa: F403
from dealdesk.settings import STORAGES

# Production redirects to https and marks cookies Secure; live_server speaks http. These are
# read once when the live server's middleware starts, so a per-test override is too late.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
# No collectstatic runs before tests: serve the sources (docs/stack-notes.md, gotcha 7).
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Each test's dashboard shows its own data, not a rendering kept from the test before it
# (tests/insights/test_pages.py turns the keeping on where it is the subject).
INSIGHTS_FIGURES_MAX_AGE = 0
# PBKDF2's deliberate slowness costs ~0.3 s a user; tests need no brute-force resistance.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Test databases' anchors never mix with a laptop's var/audit-anchors.jsonl; tests/audit
# points each test at its own file.
AUDIT_ANCHOR_URL = "file:///nonexistent/dealdesk-test-audit-anchors.jsonl"
