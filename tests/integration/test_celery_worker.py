"""The pipeline through a real Celery worker on Redis (CI's PostgreSQL pass).

The worker is a separate process, so it must see committed data in a database it can reach:
PostgreSQL's test database, not SQLite's in-memory one.
"""

import io
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import kombu.pools
import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection

from approvals.models import GateRun
from contracts.models import ContractVersion
from dealdesk import services
from dealdesk.celery import app
from dealdesk.integrations.models import OutboxMessage
from dealdesk.models import Deal
from tests.dealdesk.factories import (
    AccountFactory,
    ContactFactory,
    ProductFactory,
    UserFactory,
)

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def redis_url():
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(server).exists():
        if os.environ.get("CI"):
            pytest.fail("redis-server is missing: .ci/run installs it")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = _free_port()
    proc = subprocess.Popen(  # noqa: S603
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_for(lambda: _accepts(port), 10, "redis to listen")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def worker(redis_url, tmp_path):
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dealdesk.settings",
        # Production settings refuse to start on the laptop key: the test run's own key.
        "SECRET_KEY": django_settings.SECRET_KEY,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": redis_url,
        "MEDIA_ROOT": str(tmp_path / "media"),  # the worker stores the contract documents
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "dealdesk", "worker", "--pool=solo", "-l", "INFO"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # This process sends to the same broker instead of running tasks in-process.
    previous = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url, app.conf.task_always_eager = redis_url, False
    reset_broker_connections()

    def stop() -> str:
        if proc.poll() is None:
            proc.terminate()
        return proc.communicate(timeout=20)[0]

    try:
        yield stop
    finally:
        app.conf.broker_url, app.conf.task_always_eager = previous
        reset_broker_connections()
        if proc.poll() is None:
            print(stop())  # shown by pytest when the test fails


def reset_broker_connections() -> None:
    """Drop cached broker connections so the next send uses the current broker_url."""
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None
    # kombu keeps producer pools per broker URL process-wide; a closed one must not be reused.
    kombu.pools.reset()


def test_a_new_deal_is_classified_drafted_and_approved_by_a_real_worker(worker):
    # The reference data a flushed database lost is back: tests/conftest.py puts it back
    # before every transactional test.
    account = AccountFactory()
    signer = ContactFactory(account=account)
    spec = services.DealSpec(
        crm_id="006W00000000001",
        name="Worker deal",
        account=account,
        owner=UserFactory(roles=["Sales"]),
        start_date=date(2026, 1, 1),
        term_months=12,
        crm_amount=Decimal("3600.00"),
        lines=[
            services.LineSpec(
                ProductFactory(list_price=Decimal(1200), floor_price=Decimal(1000)), Decimal(3)
            )
        ],
        contacts=[services.ContactSpec(signer, "Signer", True)],
    )
    deal = services.deal_create(spec=spec, actor=services.pipeline_user())
    # Three tasks in a row: classify and price, draft the contract, run the approval gates.
    # A standard deal within policy needs nobody's approval, so it ends approved.
    _wait_for(
        lambda: Deal.objects.get(pk=deal.pk).state not in ("new", "drafting", "in_review"),
        60,
        "the worker to classify, draft and approve the deal",
    )
    deal.refresh_from_db()
    explanation = io.StringIO()
    call_command("explain_approvals", str(deal.pk), stdout=explanation)
    assert deal.state == "approved", explanation.getvalue()
    assert deal.tcv == Decimal("3600.00")
    assert deal.history.latest().history_user.username == "svc-pipeline"
    version = ContractVersion.objects.get(deal=deal)
    assert version.created_by.username == "svc-pipeline"
    assert GateRun.objects.filter(contract_version=version).exists()

    # Each step went through the outbox to the worker, and is marked done there; the step on
    # Deal:approved tries to send it for signature (nobody has signing authority here, so the
    # request waits as a draft saying so).
    def steps() -> dict[str, str]:
        rows = OutboxMessage.objects.filter(object_type="dealdesk.deal", object_id=str(deal.pk))
        return dict(rows.values_list("task", "status"))

    _wait_for(
        lambda: steps().get("contracts.esign.tasks.signature_send") == "done",
        60,
        "the worker to try sending the deal for signature",
    )
    assert steps() == {
        "dealdesk.tasks.deal_classify_and_price": "done",
        "contracts.tasks.contract_draft": "done",
        "approvals.tasks.evaluate_deal": "done",
        "contracts.esign.tasks.signature_send": "done",
    }
    log = worker()
    assert "Task integrations.outbox_deliver[" in log, log
    assert "] received" in log, log
