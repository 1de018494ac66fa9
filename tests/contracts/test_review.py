"""Legal review: only Legal acts, every decision leaves history and an audit event."""

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from audit.models import AuditEvent
from contracts import services
from contracts.models import ClauseDecision, ContractVersion
from dealdesk.roles import SegregationOfDutiesError


@pytest.fixture
def version(new_deal):
    return new_deal().contract_versions.get()


def test_legal_accepts_a_clause(version, legal_user):
    services.contract_clause_accept(version_id=version.pk, clause_index=0, actor=legal_user)
    assert ClauseDecision.objects.get(version=version).decided_by == legal_user
    assert (
        AuditEvent.objects.filter(
            action="contract_version.clause_accepted", actor=legal_user
        ).count()
        == 1
    )


def test_editing_params_makes_a_new_version(version, legal_user):
    services.contract_clause_accept(version_id=version.pk, clause_index=1, actor=legal_user)
    new = services.contract_clause_edit(
        version_id=version.pk,
        clause_index=0,
        params={"net_days": "45"},
        actor=legal_user,
        reason="CFO agreed 45",
    )
    version.refresh_from_db()
    assert version.state == "superseded"
    assert new.number == 2
    assert new.state == "legal_review"
    assert new.supersedes == version
    assert new.clauses[0]["params"] == {"net_days": 45}
    assert "within 45 days" in new.clauses[0]["wording"]
    assert new.pdf_sha256 != version.pdf_sha256
    # The untouched, accepted clause stays accepted.
    assert list(new.decisions.values_list("clause_index", flat=True)) == [1]
    assert AuditEvent.objects.filter(action="contract_version.clause_edited").count() == 1
    new.deal.refresh_from_db()
    assert new.deal.terms_edited_by == legal_user


def test_bad_params_are_refused_and_nothing_is_written(version, legal_user):
    with pytest.raises(services.ContractReviewError, match="Net days must be a whole number"):
        services.contract_clause_edit(
            version_id=version.pk,
            clause_index=0,
            params={"net_days": "soon"},
            actor=legal_user,
            reason="x",
        )
    assert ContractVersion.objects.count() == 1
    assert not AuditEvent.objects.filter(action="contract_version.clause_edited").exists()


def test_reject_and_add_from_the_library(version, legal_user):
    rejected = services.contract_clause_reject(
        version_id=version.pk, clause_index=1, actor=legal_user, reason="no PO"
    )
    assert [c["type"] for c in rejected.clauses] == ["payment_terms", "liability_cap"]
    added = services.contract_clause_add(
        version_id=rejected.pk,
        clause_type="governing_law",
        params={"jurisdiction": "New York"},
        actor=legal_user,
        reason="MSA",
    )
    assert added.clauses[-1]["source"] == "legal"
    assert added.number == 3


def test_segregation_of_duties_after_editing(version, legal_user):
    new = services.contract_clause_reject(
        version_id=version.pk, clause_index=1, actor=legal_user, reason="no PO"
    )
    with pytest.raises(SegregationOfDutiesError):
        services.contract_approve(version_id=new.pk, actor=legal_user)


def test_approve_accepts_every_clause(version, legal_user):
    services.contract_approve(version_id=version.pk, actor=legal_user, note="fine")
    version.refresh_from_db()
    assert version.state == "approved"
    assert version.decisions.count() == len(version.clauses)
    assert AuditEvent.objects.filter(action="contract_version.approved").count() == 1


def test_a_banned_clause_blocks_approval(new_deal, legal_user):
    version = new_deal(notes="MFN clause agreed").contract_versions.get()
    with pytest.raises(services.ContractReviewError, match="banned"):
        services.contract_approve(version_id=version.pk, actor=legal_user)
    version.refresh_from_db()
    assert version.state == "legal_review"


@pytest.mark.parametrize("role", ["Sales", "Auditor", "Deal Desk", "Finance"])
def test_other_roles_cannot_act(version, make_user, role):
    user = make_user(role)
    with pytest.raises(PermissionDenied):
        services.contract_approve(version_id=version.pk, actor=user)
    with pytest.raises(PermissionDenied):
        services.contract_clause_accept(version_id=version.pk, clause_index=0, actor=user)
    version.refresh_from_db()
    assert version.state == "legal_review"
    assert not ClauseDecision.objects.exists()


def test_request_changes_needs_a_reason(version, legal_user):
    with pytest.raises(services.ContractReviewError):
        services.contract_request_changes(version_id=version.pk, actor=legal_user, reason=" ")
    version.deal.refresh_from_db()
    assert version.deal.state == "in_review"


# --- pages ------------------------------------------------------------------------------


def test_review_page_shows_notes_quotes_and_clauses(client, version, legal_user):
    client.force_login(legal_user)
    page = client.get(reverse("contract-version", args=[version.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="quote-0"' in html
    assert 'href="#clause-0"' in html
    assert "Approve draft" in html


def test_auditor_reads_but_cannot_act(client, version, make_user):
    auditor = make_user("Auditor")
    client.force_login(auditor)
    page = client.get(reverse("contract-version", args=[version.pk]))
    assert page.status_code == 200
    assert "Approve draft" not in page.content.decode()
    assert client.get(reverse("contract-document", args=[version.pk, "pdf"])).status_code == 200
    response = client.post(reverse("contract-action", args=[version.pk, "approve"]))
    assert response.status_code == 403
    version.refresh_from_db()
    assert version.state == "legal_review"


def test_sales_cannot_open_contracts(client, version, make_user):
    client.force_login(make_user("Sales"))
    assert client.get(reverse("contract-version", args=[version.pk])).status_code == 403
    assert client.get(reverse("contract-document", args=[version.pk, "docx"])).status_code == 403
    assert (
        client.post(reverse("contract-clause-action", args=[version.pk, 0, "accept"])).status_code
        == 403
    )


def test_pages_post_decisions(client, version, legal_user):
    client.force_login(legal_user)
    response = client.post(
        reverse("contract-clause-action", args=[version.pk, 0, "accept"]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert b"Accepted" in response.content
    response = client.post(
        reverse("contract-clause-action", args=[version.pk, 0, "edit"]),
        {"param_net_days": "45", "reason": "agreed"},
    )
    new = ContractVersion.objects.get(number=2)
    assert response.url == reverse("contract-version", args=[new.pk])
    diff = client.get(reverse("contract-diff", args=[new.pk]))
    assert diff.status_code == 200
    assert b"changed" in diff.content
    assert b"45" in diff.content
    docx = client.get(reverse("contract-document", args=[new.pk, "docx"]))
    assert docx["Content-Disposition"].startswith("attachment")


def test_deal_page_lists_contract_versions(client, version, legal_user):
    client.force_login(legal_user)
    page = client.get(reverse("deal-detail", args=[version.deal_id]))
    assert b'data-testid="contract-versions"' in page.content
    assert reverse("contract-version", args=[version.pk]).encode() in page.content


@pytest.mark.parametrize("deals", [1, 4])
def test_queue_query_count_is_bounded(
    client, new_deal, legal_user, deals, django_assert_max_num_queries
):
    for _ in range(deals):
        new_deal()
    client.force_login(legal_user)
    with django_assert_max_num_queries(8):
        page = client.get(reverse("contract-review-queue"))
    assert page.status_code == 200
    assert len(re.findall(r'href="/contracts/\d+/"', page.content.decode())) == deals


def test_accepting_a_banned_clause_is_refused_in_place(client, new_deal, legal_user):
    version = new_deal(notes="MFN clause agreed").contract_versions.get()
    banned = next(i for i, c in enumerate(version.clauses) if c["banned"])
    client.force_login(legal_user)
    response = client.post(
        reverse("contract-clause-action", args=[version.pk, banned, "accept"]),
        HTTP_HX_REQUEST="true",
    )
    assert b"text-danger" in response.content
    assert b"banned" in response.content
    assert not ClauseDecision.objects.exists()
    assert not AuditEvent.objects.filter(action="contract_version.clause_accepted").exists()


def test_diff_of_a_first_version_explains_there_is_nothing_to_compare(client, version, legal_user):
    client.force_login(legal_user)
    response = client.get(reverse("contract-diff", args=[version.pk]) + "?against=nonsense")
    assert response.status_code == 302
    assert response.url == reverse("contract-version", args=[version.pk])
