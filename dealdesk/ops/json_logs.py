"""JSON log lines (LOG_FORMAT=json, the default unless DEBUG): one object per line, for a log
pipeline to index, each with the request id and, inside a Celery task, the task's name and id.
Imported by gunicorn's master before Django is set up, so nothing here touches settings."""

import json
import logging
from datetime import UTC, datetime

from celery import current_task

from dealdesk.ops.request_id import current_request_id


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id.get()
        if request_id:
            entry["request_id"] = request_id
        task = current_task
        if task and task.request.id:
            entry["task"] = task.name
            entry["task_id"] = task.request.id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # default=str: a log argument that is not JSON (a Decimal, a model) still logs.
        return json.dumps(entry, default=str, ensure_ascii=False)
