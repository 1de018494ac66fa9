"""Legal's reasons: one limit with its message on the review page; a long edit reason is
kept whole in history and audit while the version's `made_by` keeps a short label."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from contracts import services
from dealdesk.forms import REASON_MAX_LENGTH, REASON_TOO_LONG

TOO_LONG = "x" * (REASON_MAX_LENGTH + 1)


@pytest.fixture
def version(new_deal):
    return new_deal().contract_versions.get()


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("request-changes", {}),
        ("approve", {}),
        ("clauses/0/reject", {}),
        ("clauses/0/edit", {"param_net_days": "45"}),
    ],
)
def test_a_too_long_legal_reason_says_the_limit_and_changes_nothing(
    client, version, legal_user, path, fields
):
    client.force_login(legal_user)
    url = reverse("contract-version", args=[version.pk]) + f"{path}/"
    response = client.post(url, {"reason": TOO_LONG, **fields}, follow=True)
    assert REASON_TOO_LONG in response.content.decode()
    version.refresh_from_db()
    assert version.state == "legal_review"
    assert version.deal.contract_versions.count() == 1


def test_a_long_legal_edit_reason_is_kept_whole_and_made_by_stays_a_label(version, legal_user):
    # Over made_by's 100 characters: PostgreSQL refused the save (a 500) before.
    reason = "CFO agreed on the call to move payment terms to 45 days; " * 10
    new = services.contract_clause_edit(
        version_id=version.pk,
        clause_index=0,
        params={"net_days": "45"},
        actor=legal_user,
        reason=reason,
    )
    new.refresh_from_db()
    assert new.made_by == "legal edit"
    assert AuditEvent.objects.get(action="contract_version.clause_edited").reason == reason
    drafted = AuditEvent.objects.filter(action="contract_version.drafted").latest("pk")
    assert drafted.reason == f"legal edit: {reason}"
    assert new.history.latest().history_change_reason == f"legal edit: {reason}"
    version.refresh_from_db()
    assert reason in version.state_reason


@pytest.mark.postgres
def test_a_legal_edit_reason_past_100_characters_saves_on_postgresql(client, version, legal_user):
    client.force_login(legal_user)
    response = client.post(
        reverse("contract-clause-action", args=[version.pk, 0, "edit"]),
        {"reason": "r" * 500, "param_net_days": "45"},
    )
    assert response.status_code == 302
    assert version.deal.contract_versions.count() == 2
