"""Legal configures contracts in the admin: clause wording (with history) and template versions."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contracts.document_templates import order_form_docx
from contracts.models import ClauseType, ContractTemplate
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


def test_legal_publishes_a_new_template_version_and_new_drafts_use_it(client, legal_user, new_deal):
    old = new_deal().contract_versions.get()
    pattern = DealPattern.objects.get(code="custom_terms")
    client.force_login(legal_user)
    response = client.post(
        reverse("admin:contracts_contracttemplate_add"),
        {
            "pattern": pattern.pk,
            "title": "Order Form (2027 paper)",
            "html": ContractTemplate.objects.get(pattern=pattern, version=1).html,
            "note": "new paper",
            "docx_file": SimpleUploadedFile("order-form-2027.docx", order_form_docx()),
        },
    )
    assert response.status_code == 302
    published = ContractTemplate.objects.get(pattern=pattern, version=2)
    assert published.created_by == legal_user
    assert published.docx_filename == "order-form-2027.docx"
    fresh = new_deal().contract_versions.get()
    assert fresh.template == published
    assert fresh.snapshot["title"] == "Order Form (2027 paper)"
    old.refresh_from_db()
    assert old.template.version == 1  # old contracts keep the version they were made with


def test_sales_cannot_open_the_clause_library(client, make_user):
    client.force_login(make_user("Sales", is_staff=True))
    assert client.get(reverse("admin:contracts_clausetype_changelist")).status_code == 403
