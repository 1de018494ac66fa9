"""Legal configures contracts in the admin: clause wording (with history) and template versions."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contracts.document_templates import order_form_docx
from contracts.models import ClauseType, ContractTemplate, TemplateState
from dealdesk.models import DealPattern


def test_legal_edits_clause_wording_with_history(client, legal_user):
    client.force_login(legal_user)
    clause_type = ClauseType.objects.get(code="payment_terms")
    url = reverse("admin:contracts_clausetype_change", args=[clause_type.pk])
    response = client.post(
        url,
        {
            "title": "Payment",
            "wording": "Invoices are due {{ net_days }} days after issue.",
            "needs_legal_review": "on",
            "approval_group": "Finance",
            "default_params": "{}",
            "position": 0,
        },
    )
    assert response.status_code == 302
    clause_type.refresh_from_db()
    assert clause_type.wording == "Invoices are due {{ net_days }} days after issue."
    assert clause_type.history.first().history_user == legal_user


def _post_template(client, pattern, **fields):
    return client.post(
        reverse("admin:contracts_contracttemplate_add"),
        {
            "pattern": pattern.pk,
            "title": "Order Form (2027 paper)",
            "html": ContractTemplate.objects.get(pattern=pattern, version=1).html,
            "note": "new paper",
            "docx_file": SimpleUploadedFile("order-form-2027.docx", order_form_docx()),
            **fields,
        },
    )


def _decide(client, template, action, note=""):
    return client.post(
        reverse("admin:contracts_contracttemplate_changelist"),
        {"action": action, "_selected_action": [template.pk], "note": note},
        follow=True,
    )


def test_legal_publishes_a_version_that_new_drafts_use_once_deal_desk_approves_it(
    client, legal_user, desk_user, new_deal
):
    old = new_deal().contract_versions.get()
    pattern = DealPattern.objects.get(code="custom_terms")
    client.force_login(legal_user)
    assert _post_template(client, pattern).status_code == 302
    published = ContractTemplate.objects.get(pattern=pattern, version=2)
    assert published.created_by == legal_user
    assert published.docx_filename == "order-form-2027.docx"
    assert published.state == TemplateState.PENDING_APPROVAL
    assert new_deal().contract_versions.get().template.version == 1

    client.force_login(desk_user)
    listing = _decide(client, published, "approve_versions", note="read both documents")
    assert "approved" in listing.content.decode()
    published.refresh_from_db()
    assert (published.state, published.decided_by) == (TemplateState.APPROVED, desk_user)
    fresh = new_deal().contract_versions.get()
    assert fresh.template == published
    assert fresh.snapshot["title"] == "Order Form (2027 paper)"
    old.refresh_from_db()
    assert old.template.version == 1  # old contracts keep the version they were made with


def test_a_refused_template_is_a_form_error_and_nothing_is_saved(client, legal_user):
    pattern = DealPattern.objects.get(code="custom_terms")
    client.force_login(legal_user)
    response = _post_template(client, pattern, html='<img src="file:///etc/passwd">')
    assert response.status_code == 200
    assert "file: URL refused (file:///etc/passwd)" in response.content.decode()
    assert not ContractTemplate.objects.filter(pattern=pattern, version=2).exists()


def test_the_publisher_approving_in_the_admin_gets_an_error_not_an_approval(client, make_user):
    publisher = make_user("Legal", "Deal Desk", username="both", is_staff=True)
    pattern = DealPattern.objects.get(code="custom_terms")
    client.force_login(publisher)
    _post_template(client, pattern)
    published = ContractTemplate.objects.get(pattern=pattern, version=2)
    listing = _decide(client, published, "approve_versions")
    assert "cannot decide on it: a second person must" in listing.content.decode()
    published.refresh_from_db()
    assert published.state == TemplateState.PENDING_APPROVAL


def test_the_template_list_shows_each_versions_state_and_legal_has_no_approve_action(
    client, legal_user
):
    client.force_login(legal_user)
    response = client.get(reverse("admin:contracts_contracttemplate_changelist"))
    assert "Approved" in response.content.decode()
    assert "approve_versions" not in response.content.decode()


def test_sales_cannot_open_the_clause_library(client, make_user):
    client.force_login(make_user("Sales", is_staff=True))
    assert client.get(reverse("admin:contracts_clausetype_changelist")).status_code == 403
