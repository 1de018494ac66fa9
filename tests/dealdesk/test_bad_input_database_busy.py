"""SQLite's "database is locked" (a writer waited past the busy timeout) is a page saying
try again, not a 500; other database errors are not hidden."""

import pytest
from django.db import OperationalError
from django.urls import reverse

from dealdesk import services
from dealdesk.middleware import DATABASE_BUSY
from tests.dealdesk.factories import DealFactory


def _raising(message: str):
    def action(**kwargs):
        raise OperationalError(message)

    return action


def test_a_locked_database_during_a_deal_action_answers_try_again(client, desk_user, monkeypatch):
    monkeypatch.setitem(
        services.PERSON_ACTIONS, "send_to_manual_review", _raising("database is locked")
    )
    deal = DealFactory(state="drafting")
    client.force_login(desk_user)
    response = client.post(
        reverse("deal-action", args=[deal.pk, "send_to_manual_review"]), {"reason": "why"}
    )
    assert response.status_code == 503
    assert DATABASE_BUSY in response.content.decode()


def test_other_database_errors_still_surface(client, desk_user, monkeypatch):
    monkeypatch.setitem(
        services.PERSON_ACTIONS, "send_to_manual_review", _raising("disk I/O error")
    )
    deal = DealFactory(state="drafting")
    client.force_login(desk_user)
    with pytest.raises(OperationalError):
        client.post(
            reverse("deal-action", args=[deal.pk, "send_to_manual_review"]), {"reason": "why"}
        )
