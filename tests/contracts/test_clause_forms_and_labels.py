"""Clause forms start from sensible values and say what is wrong in words; rejecting a clause
needs a reason; contract and approval badges say what happened."""

import pytest
from django.urls import reverse

from approvals.models import ApprovalRequest
from approvals.policy import Rule, evaluate, required_approvals
from approvals.templatetags.approvals import request_state_label
from audit.models import AuditEvent
from contracts.forms import param_fields
from contracts.models import ContractVersion
from contracts.param_words import param_problems
from contracts.templatetags.contracts import version_status
from tests.approvals.test_default_policy import CLEAN

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(new_deal):
    return new_deal().contract_versions.get()


def test_clause_inputs_start_from_sensible_values_with_labels():
    (months,) = param_fields("free_period", {})
    assert (months.label, months.value) == ("Months", "1")
    (cap,) = param_fields("liability_cap", {})
    assert (cap.label, cap.value) == ("Cap (× annual fees)", "1")  # 12 months of fees
    _, every = param_fields("price_uplift", {})
    assert every.value == "12"
    (net,) = param_fields("payment_terms", {"net_days": 45}, {"net_days": 30})
    assert net.value == "45"  # the clause's own value first
    (net,) = param_fields("payment_terms", {}, {"net_days": 60})
    assert net.value == "60"  # then the clause type's default


@pytest.mark.parametrize(
    ("clause_type", "params", "words"),
    [
        ("free_period", {"months": "1.5"}, "Months must be a whole number"),
        ("liability_cap", {"multiple_of_fees": "0"}, "Cap must be a positive amount"),
        ("liability_cap", {"multiple_of_fees": "lots"}, "Cap must be a number"),
        ("payment_terms", {"net_days": None}, "Net days is required"),
        ("payment_terms", {"net_days": "400"}, "Net days must be at most 365"),
        ("free_period", {"months": "0"}, "Months must be at least 1"),
    ],
)
def test_wrong_params_are_said_in_words(clause_type, params, words):
    assert param_problems(clause_type, params) == [words]
    assert param_problems("free_period", {"months": "2"}) == []


def test_an_edit_with_a_wrong_value_says_why_and_makes_no_version(client, version, legal_user):
    client.force_login(legal_user)
    response = client.post(
        reverse("contract-clause-action", args=[version.pk, 0, "edit"]),
        {"param_net_days": "thirty", "reason": "agreed"},
        follow=True,
    )
    assert "Net days must be a whole number" in response.content.decode()
    assert "Input should be" not in response.content.decode()
    assert ContractVersion.objects.filter(deal=version.deal).count() == 1


def test_rejecting_a_clause_needs_a_reason(client, version, legal_user):
    client.force_login(legal_user)
    url = reverse("contract-clause-action", args=[version.pk, 0, "reject"])
    response = client.post(url, {"reason": "  "}, follow=True)
    assert "say why: a reason is required" in response.content.decode()
    assert ContractVersion.objects.filter(deal=version.deal).count() == 1
    assert not AuditEvent.objects.filter(action="contract_version.clause_rejected").exists()

    client.post(url, {"reason": "not agreed with the customer"})
    event = AuditEvent.objects.get(action="contract_version.clause_rejected")
    assert event.reason == "not agreed with the customer"


def test_the_review_page_asks_before_rejecting(client, version, legal_user):
    client.force_login(legal_user)
    page = client.get(reverse("contract-version", args=[version.pk])).content.decode()
    form = page.split('data-testid="reject-form-0"', 1)[1].split("</form>", 1)[0]
    assert 'name="reason"' in form
    assert "required" in form
    assert 'type="hidden" name="reason"' not in page


@pytest.mark.parametrize(
    ("state", "reasons", "deal_state", "label"),
    [
        ("draft", [], "signed", "Approved (no legal review needed)"),
        ("draft", [], "paid", "Approved (no legal review needed)"),
        ("draft", [], "in_review", "Draft (no legal review needed)"),
        ("draft", ["banned clause"], "drafting", "Draft"),
        ("legal_review", ["x"], "in_review", "In legal review"),
        ("approved", ["x"], "signed", "Approved by Legal"),
        ("voided", [], "cancelled", "Voided"),
    ],
)
def test_contract_badges_say_what_happened(state, reasons, deal_state, label):
    version = ContractVersion(number=1, state=state, review_reasons=reasons)
    assert version_status(version, deal_state=deal_state)[0] == label


def test_a_superseded_version_names_its_successor_on_the_deal_page(client, version, legal_user):
    client.force_login(legal_user)
    client.post(
        reverse("contract-clause-action", args=[version.pk, 0, "edit"]),
        {"param_net_days": "45", "reason": "agreed"},
    )
    page = client.get(reverse("deal-detail", args=[version.deal_id])).content.decode()
    assert "Superseded by v2" in page
    assert "In legal review" in page


def test_a_request_superseded_before_a_decision_does_not_say_it_was_approved():
    never = ApprovalRequest(state="superseded", reason="contract v2 replaced it")
    assert request_state_label(never) == "Superseded before decision"
    approved_then = ApprovalRequest(state="superseded", decided_at="2026-01-01T00:00Z")
    assert request_state_label(approved_then) == "Superseded after approval"
    assert request_state_label(ApprovalRequest(state="approved")) == "Approved"


def test_a_rule_is_named_once_however_many_of_its_conditions_hold():
    rule = Rule("Finance: long big deals", 1, "Finance", term_months_above=6, tcv_above=0)
    (required,) = required_approvals(evaluate([rule], CLEAN))
    (reason,) = required.reasons
    assert reason.count("Finance: long big deals") == 1
    assert "; " in reason  # both conditions, after the one name
