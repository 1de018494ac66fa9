"""A decision is approve or reject: anything else is refused, not taken as a rejection; a
database busy with another decision answers "try again", not a 500; `next` stays on site."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import OperationalError
from django.urls import reverse

from approvals import views
from approvals.models import ApprovalRequest
from audit.models import AuditEvent
from dealdesk.middleware import DATABASE_BUSY
from tests.approvals.test_flow import NET_90

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def request_(won_deal):
    return ApprovalRequest.objects.get(deal=won_deal(notes=NET_90))


@pytest.mark.parametrize("decision", ["", "yes", "Approve", "approve ", "rejected", "deny"])
def test_a_decision_other_than_approve_or_reject_is_refused_and_nothing_changes(
    client, make_user, request_, decision
):
    client.force_login(make_user("Finance"))
    answer = client.post(
        reverse("approval-decide", args=[request_.pk]),
        {"decision": decision, "reason": "looks wrong"},
        HTTP_HX_REQUEST="true",
    )
    assert answer.status_code == 200
    assert "Choose approve or reject" in answer.content.decode()
    request_.refresh_from_db()
    assert request_.state == "pending"
    assert not AuditEvent.objects.filter(action="approval_request.rejected").exists()


def test_a_locked_database_during_a_decision_asks_to_try_again(
    client, make_user, request_, monkeypatch
):
    def locked(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(views, "approval_request_decide", locked)
    client.force_login(make_user("Finance"))
    url = reverse("approval-decide", args=[request_.pk])
    answer = client.post(url, {"decision": "approve"}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    assert DATABASE_BUSY in answer.content.decode()
    page = client.post(url, {"decision": "approve"}, follow=True)
    assert DATABASE_BUSY in page.content.decode()
    request_.refresh_from_db()
    assert request_.state == "pending"


def test_other_database_errors_during_a_decision_are_not_hidden(
    client, make_user, request_, monkeypatch
):
    def broken(**kwargs):
        raise OperationalError("no such table: approvals_approvalrequest")

    monkeypatch.setattr(views, "approval_request_decide", broken)
    client.force_login(make_user("Finance"))
    with pytest.raises(OperationalError):
        client.post(reverse("approval-decide", args=[request_.pk]), {"decision": "approve"})


def test_sqlite_takes_the_write_lock_when_a_transaction_begins():
    """BEGIN IMMEDIATE: two deciders wait their turn instead of one failing mid-transaction."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env |= {"DEBUG": "true", "DATABASE_URL": "sqlite:////tmp/dealdesk-settings-probe.sqlite3"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from dealdesk import settings; "
            "print(settings.DATABASES['default']['OPTIONS']['transaction_mode'])",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "IMMEDIATE", result.stderr


@pytest.mark.parametrize("target", ["https://evil.example/phish", "//evil.example"])
def test_deciding_an_approval_does_not_redirect_off_site(
    client, make_user, request_, target, django_capture_on_commit_callbacks
):
    client.force_login(make_user("Finance"))
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            reverse("approval-decide", args=[request_.pk]),
            {"decision": "approve", "next": target},
        )
    assert answer.status_code == 302
    assert answer.url == reverse("my-approvals")
