"""Celery set for money paths (docs/deploy.md): acknowledged late, handed back when a worker
dies, one task at a time, time limits, a visibility timeout longer than the longest task."""

from django.core.checks import run_checks

from dealdesk.celery import app
from dealdesk.ops.checks import visibility_timeout_outlasts_tasks


def test_money_path_settings():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.worker_cancel_long_running_tasks_on_connection_loss is True
    assert (conf.task_soft_time_limit, conf.task_time_limit) == (1680, 1800)
    # The nightly CRM sync, the longest task, has its own limits.
    crm_sync = app.tasks["dealdesk.crm_sync"]
    assert (crm_sync.soft_time_limit, crm_sync.time_limit) == (3480, 3600)
    assert conf.broker_transport_options["visibility_timeout"] == 7200


def test_beat_sends_the_heartbeat_every_minute():
    entry = app.conf.beat_schedule["ops-beat-heartbeat"]
    assert (entry["task"], entry["schedule"]) == ("ops.beat_heartbeat", 60.0)
    assert "ops.beat_heartbeat" in app.tasks


def test_a_visibility_timeout_shorter_than_a_task_fails_the_check(settings):
    assert visibility_timeout_outlasts_tasks(None) == []
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    errors = visibility_timeout_outlasts_tasks(None)
    assert [error.id for error in errors] == ["ops.E001"]
    assert "3600 s" in errors[0].msg
    assert "ops.E001" in {error.id for error in run_checks()}
