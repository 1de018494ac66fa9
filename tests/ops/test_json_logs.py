"""JSON log lines: the default without DEBUG, one object per line, with the request id and,
inside a task, the task's name and id."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from celery import shared_task
from django.conf import settings

from dealdesk.ops.json_logs import JsonFormatter
from dealdesk.ops.request_id import current_request_id

ROOT = Path(__file__).resolve().parents[2]


def _record(message: str, *args, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("dealdesk.x", logging.WARNING, __file__, 1, message, args, exc_info)


def test_a_line_is_one_json_object_with_the_request_id():
    token = current_request_id.set("req-1")
    try:
        line = JsonFormatter().format(_record("deal %s priced: %s", 7, 'a "quoted"\nnote'))
    finally:
        current_request_id.reset(token)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == 'deal 7 priced: a "quoted"\nnote'
    assert (entry["level"], entry["logger"], entry["request_id"]) == (
        "WARNING",
        "dealdesk.x",
        "req-1",
    )
    assert entry["time"].endswith("+00:00")
    assert "task" not in entry


def test_outside_a_request_there_is_no_request_id_and_exceptions_are_kept():
    try:
        raise ValueError("boom")
    except ValueError:
        line = JsonFormatter().format(_record("failed", exc_info=sys.exc_info()))
    entry = json.loads(line)
    assert "request_id" not in entry
    assert "ValueError: boom" in entry["exception"]


@shared_task(name="tests.ops.line_inside_a_task")
def line_inside_a_task() -> str:
    return JsonFormatter().format(_record("inside"))


def test_inside_a_task_the_line_names_the_task():
    result = line_inside_a_task.apply()
    # The eager result's value, not .get(): a real worker started in this process by an
    # earlier test leaves Celery's "inside a task" flag set, and .get() would refuse.
    assert result.successful(), result.traceback
    entry = json.loads(result.result)
    assert (entry["task"], entry["task_id"]) == ("tests.ops.line_inside_a_task", result.id)


def test_json_is_the_default_without_debug_and_plain_with_it():
    # The tests run as production does (DEBUG off).
    assert settings.LOG_FORMAT == "json"
    assert settings.LOGGING["handlers"]["console"]["formatter"] == "json"
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    script = "from django.conf import settings as s; print(s.LOG_FORMAT)"
    laptop = subprocess.run(  # noqa: S603 - fixed argv, our own manage.py
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", script],
        cwd=ROOT,
        env={**clean, "DEBUG": "true"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert laptop.stdout.split()[-1] == "plain"
