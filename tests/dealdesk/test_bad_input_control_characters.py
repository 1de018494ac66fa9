"""NUL bytes and other control characters in a form or query string: a 400 with a message,
never a 500 from the database (PostgreSQL refuses NUL in text) and never a save."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse

from audit.models import AuditEvent
from dealdesk.middleware import RefuseControlCharactersMiddleware
from tests.dealdesk.factories import DealFactory

MESSAGE = "holds a control character"


@pytest.mark.parametrize(
    "url_name", ["deal-list", "contract-review-queue", "my-approvals", "crm-sync"]
)
@pytest.mark.parametrize("value", ["acme\x00", "acme\x1b[2J", "a\x7fb", "tab\tok\x00"])
def test_a_control_character_in_a_list_filter_answers_400_with_a_message(
    client, make_user, url_name, value
):
    client.force_login(make_user("Deal Desk", "Finance"))
    response = client.get(reverse(url_name), {"q": value})
    assert response.status_code == 400
    assert MESSAGE in response.content.decode()


def test_a_control_character_in_a_query_parameter_name_is_refused_too(client, desk_user):
    client.force_login(desk_user)
    response = client.get(reverse("deal-list") + "?q%00=acme")
    assert response.status_code == 400


def test_a_clean_search_still_filters_the_deal_list(client, desk_user):
    DealFactory(name="Acme renewal")
    client.force_login(desk_user)
    response = client.get(reverse("deal-list"), {"q": "Acme"})
    assert response.status_code == 200
    assert "Acme renewal" in response.content.decode()


def test_a_nul_in_a_posted_reason_is_refused_and_nothing_changes(client, desk_user):
    deal = DealFactory(state="drafting")
    client.force_login(desk_user)
    response = client.post(
        reverse("deal-action", args=[deal.pk, "send_to_manual_review"]),
        {"reason": "customer asked\x00"},
    )
    assert response.status_code == 400
    assert MESSAGE in response.content.decode()
    deal.refresh_from_db()
    assert deal.state == "drafting"
    assert not AuditEvent.objects.filter(action="deal.sent_to_manual_review").exists()


def test_tabs_and_newlines_in_a_multi_line_reason_are_accepted(client, desk_user):
    deal = DealFactory(state="drafting")
    client.force_login(desk_user)
    response = client.post(
        reverse("deal-action", args=[deal.pk, "send_to_manual_review"]),
        {"reason": "line one\r\n\tline two"},
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.state == "manual_review"


def test_uploaded_files_and_raw_bodies_are_not_read_as_text():
    """A file's bytes and a webhook's JSON body are data for their view, not form text."""
    factory = RequestFactory()
    middleware = RefuseControlCharactersMiddleware(lambda request: "passed")
    upload = factory.post(
        "/x/",
        {"note": "fine", "file": SimpleUploadedFile("contract.docx", b"PK\x03\x04\x00\x00binary")},
    )
    webhook = factory.post("/webhooks/x/", b'{"a": "\x00"}', content_type="application/json")
    assert middleware(upload) == "passed"
    assert middleware(webhook) == "passed"
    assert middleware(factory.post("/x/", {"note": "bad\x00"})).status_code == 400
