"""After a POST, `next` leads only to our own pages: never off-site (an open redirect)."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from dealdesk.crm.models import CrmDrift
from dealdesk.views import redirect_back
from tests.dealdesk.factories import DealFactory

OFF_SITE = [
    "https://evil.example/phish",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https:evil.example",
    "javascript:alert(1)",
    " //evil.example",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_redirect_back_never_leaves_the_site(target):
    request = RequestFactory().post("/x/", {"next": target})
    assert redirect_back(request, "/fallback/").url == "/fallback/"


def test_a_bare_word_in_next_is_a_relative_page_not_a_url_name():
    request = RequestFactory().post("/deals/7/", {"next": "deal-detail"})
    assert redirect_back(request, "/fallback/").url == "deal-detail"


def test_redirect_back_follows_a_page_of_ours():
    request = RequestFactory().post("/x/", {"next": "/deals/7/?tab=approvals"})
    assert redirect_back(request, "/fallback/").url == "/deals/7/?tab=approvals"


@pytest.mark.parametrize("target", ["https://evil.example/phish", "//evil.example"])
def test_deciding_crm_drift_does_not_redirect_off_site(client, desk_user, target):
    drift = CrmDrift.objects.create(
        deal=DealFactory(state="in_review"),
        proposal={"fields": {"term_months": 24}, "lines": {}, "withdrawn": ""},
    )
    client.force_login(desk_user)
    answer = client.post(
        reverse("crm-drift-decide", args=[drift.pk, "dismiss"]),
        {"reason": "contract is right", "next": target},
    )
    assert answer.status_code == 302
    assert answer.url == reverse("crm-sync") + "?tab=drift"
