"""`make up` (bin/up): the Procfile's web, worker and beat on PostgreSQL and a throwaway Redis
come up healthy, serve the demo, and Ctrl-C stops every process it started.

Runs on CI's PostgreSQL pass against the test database (migrated already, so the run spends
its time on the demo seed, not on migrations); bin/up starts its own Redis.
"""

import os
import re
import signal
import subprocess
import uuid
from pathlib import Path

import pytest
import requests
from django.db import connection

from tests.integration.test_celery_worker import _accepts, _free_port, _wait_for

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _processes_marked(marker: str) -> list[int]:
    """Every live process that inherited the run's marker variable: its whole tree."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if f"DEALDESK_UP_TEST={marker}".encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def _healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def test_make_up_serves_the_demo_with_real_workers_and_ctrl_c_stops_everything(tmp_path):
    db = connection.settings_dict
    marker = uuid.uuid4().hex
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "PORT": str(port),
        "DEALDESK_UP_TEST": marker,
        "MEDIA_ROOT": str(tmp_path / "media"),
        "METRICS_TOKEN": "up-test-token",
        "DJANGO_SETTINGS_MODULE": "dealdesk.settings",
        "DEBUG": "true",
    }
    env.pop("REDIS_URL", None)
    env.pop("CELERY_BROKER_URL", None)
    log = tmp_path / "up.log"
    with log.open("w") as out:
        # Its own session, as a terminal's job: Ctrl-C reaches the whole process group.
        up = subprocess.Popen(  # noqa: S603
            [str(ROOT / "bin" / "up")],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(lambda: _healthy(url) or up.poll() is not None, 600, "make up to be healthy")
        assert up.poll() is None, log.read_text()[-5000:]
        health = requests.get(f"{url}/healthz", timeout=5).json()
        assert health["checks"]["broker"]["configured"] is True
        assert health["checks"]["beat"]["ok"] is True
        redis_port = int(re.search(r"throwaway Redis on 127\.0\.0\.1:(\d+)", log.read_text())[1])
        login = requests.get(f"{url}/login/", timeout=10)
        assert login.status_code == 200
        assert "X-Request-ID" in login.headers
        assert "demo" in log.read_text().lower()
        # The worker's tasks show in the web's /metrics: one directory for the machine.
        _wait_for(
            lambda: (
                "dealdesk_task_duration_seconds_count"
                in requests.get(
                    f"{url}/metrics", headers={"Authorization": "Bearer up-test-token"}, timeout=10
                ).text
            ),
            60,
            "task metrics from the worker",
        )
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends
        up.wait(timeout=60)
    text = log.read_text()
    assert "== stopped" in text, text[-3000:]
    _wait_for(lambda: not _processes_marked(marker), 15, "every process of the run to end")
    assert not _accepts(redis_port)
    assert not _accepts(port)
