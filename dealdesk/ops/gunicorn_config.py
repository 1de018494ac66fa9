"""gunicorn's settings for the `web` process (Procfile): `--config python:dealdesk.ops.gunicorn_config`.

Environment: PORT (default 8000) or WEB_BIND, WEB_CONCURRENCY (worker processes, default 2 × CPUs + 1),
WEB_TIMEOUT (seconds a request may take before its worker is restarted, default 60).
"""

import os

from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dealdesk.settings")

bind = [os.environ.get("WEB_BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"]
# gunicorn's advice for sync workers: while one waits on the database or a slow request (a
# login's password hash, the dashboard), the others keep answering.
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * (os.cpu_count() or 1) + 1)
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
# The load balancer keeps connections open between requests; gunicorn's 2 s default would
# close them under it.
keepalive = 75

# gunicorn's own lines (boot, worker restarts) in the app's format: JSON in production.
# Not propagated, or a worker would print them twice once Django adds its root handler.
logconfig_dict = {
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
        # Off: dealdesk.access writes one line per request, with its request id.
        "gunicorn.access": {"level": "WARNING", "handlers": ["console"], "propagate": False},
    },
}
if settings.LOG_FORMAT == "json":
    logconfig_dict["formatters"] = {"generic": {"()": "dealdesk.ops.json_logs.JsonFormatter"}}
