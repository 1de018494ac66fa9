"""Every reason a person types has one length limit and says so in its own message."""

import pytest
from django.urls import reverse

from approvals.forms import DecisionForm
from audit.models import AuditEvent
from dealdesk.crm.models import CrmDrift
from dealdesk.forms import (
    REASON_MAX_LENGTH,
    REASON_TOO_LONG,
    OptionalReasonForm,
    ReasonForm,
    ResumeForm,
)
from tests.dealdesk.factories import DealFactory

TOO_LONG = "x" * (REASON_MAX_LENGTH + 1)


@pytest.mark.parametrize("form_class", [ReasonForm, OptionalReasonForm, ResumeForm, DecisionForm])
def test_every_reason_form_uses_the_one_limit_and_its_message(form_class, db):
    field = form_class.base_fields["reason"]
    assert field.max_length == REASON_MAX_LENGTH
    form = form_class({"reason": TOO_LONG, "decision": "reject"})
    assert form.errors["reason"] == [REASON_TOO_LONG]
    assert str(REASON_MAX_LENGTH) in REASON_TOO_LONG.replace(",", "")


def test_a_too_long_deal_action_reason_says_the_limit_and_changes_nothing(client, desk_user):
    deal = DealFactory(state="drafting")
    client.force_login(desk_user)
    response = client.post(
        reverse("deal-action", args=[deal.pk, "send_to_manual_review"]),
        {"reason": TOO_LONG},
        follow=True,
    )
    assert REASON_TOO_LONG in response.content.decode()
    deal.refresh_from_db()
    assert deal.state == "drafting"


def test_a_too_long_drift_reason_says_the_limit_and_changes_nothing(client, desk_user):
    drift = CrmDrift.objects.create(
        deal=DealFactory(state="in_review"),
        proposal={"fields": {"term_months": 24}, "lines": {}, "withdrawn": ""},
    )
    client.force_login(desk_user)
    response = client.post(
        reverse("crm-drift-decide", args=[drift.pk, "dismiss"]), {"reason": TOO_LONG}, follow=True
    )
    # Before: the reason was dropped silently and the page asked for one instead.
    assert REASON_TOO_LONG in response.content.decode()
    drift.refresh_from_db()
    assert drift.status == "open"
    assert not AuditEvent.objects.filter(action="crm_drift.dismissed").exists()
