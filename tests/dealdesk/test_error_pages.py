"""Error pages in the app's clothes (DEBUG is off under tests): 403, 404 and 405 with the
navigation and a way back, 500 with neither request nor database. Never a traceback."""

import pytest
from django.test import Client, RequestFactory
from django.urls import include, path, reverse
from django.views.defaults import server_error

from dealdesk.models import Deal
from tests.dealdesk.factories import DealFactory


def boom(request):
    raise RuntimeError("secret internals: table dealdesk_deal column xyz")


# This module doubles as the URLconf of the 500 tests: the app's URLs plus a view that fails.
urlpatterns = [path("boom/", boom), path("", include("dealdesk.urls"))]
PAGE = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,*/*;q=0.8"}


def assert_app_page(response, template: str) -> str:
    body = response.content.decode()
    assert template in [t.name for t in response.templates]
    assert 'data-testid="error-page"' in body
    assert 'data-testid="back-to-deals"' in body
    assert "Traceback" not in body
    assert "Exception" not in body
    return body


def test_a_missing_page_is_404_with_the_navigation(client, desk_user):
    client.force_login(desk_user)
    response = client.get("/no-such-page/", **PAGE)
    assert response.status_code == 404
    body = assert_app_page(response, "404.html")
    assert 'data-testid="current-user"' in body
    assert ">Deals</a>" in body
    assert "This page does not exist" in body


def test_a_deal_someone_cannot_see_is_the_same_404(client, make_user):
    deal = DealFactory()  # owned by another salesperson
    client.force_login(make_user("Sales"))
    response = client.get(reverse("deal-detail", args=[deal.pk]), **PAGE)
    assert response.status_code == 404
    assert_app_page(response, "404.html")


def test_a_forbidden_action_is_403_with_the_navigation_and_no_exception_text(client, make_user):
    deal = DealFactory()
    client.force_login(make_user("Auditor"))
    response = client.post(
        reverse("deal-action", args=[deal.pk, "cancel"]), {"reason": "x", "confirm": "1"}
    )
    assert response.status_code == 403
    body = assert_app_page(response, "403.html")
    assert 'data-testid="current-user"' in body
    assert "manage_deal" not in body
    deal.refresh_from_db()
    assert deal.state == "new"


def test_a_form_address_opened_as_a_link_is_a_405_page_keeping_allow(client, desk_user):
    deal = DealFactory()
    client.force_login(desk_user)
    response = client.get(reverse("deal-action", args=[deal.pk, "cancel"]), **PAGE)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    body = assert_app_page(response, "405.html")
    assert 'data-testid="current-user"' in body
    assert Deal.objects.get(pk=deal.pk).state == "new"


@pytest.mark.parametrize(
    "headers", [{}, {"HTTP_ACCEPT": "application/json"}, {**PAGE, "HTTP_HX_REQUEST": "true"}]
)
def test_scripts_and_htmx_keep_the_bare_405(client, desk_user, headers):
    deal = DealFactory()
    client.force_login(desk_user)
    response = client.get(reverse("deal-action", args=[deal.pk, "cancel"]), **headers)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.content == b""


@pytest.mark.urls(__name__)
def test_a_crash_is_a_500_page_without_technical_text(desk_user):
    client = Client(raise_request_exception=False)
    client.force_login(desk_user)
    response = client.get("/boom/", **PAGE)
    assert response.status_code == 500
    body = assert_app_page(response, "500.html")
    assert "secret internals" not in body
    assert "RuntimeError" not in body
    assert reverse("deal-list") in body


def test_the_500_page_needs_neither_request_context_nor_the_database(db, django_assert_num_queries):
    request = RequestFactory().get("/anything/")  # no user, no session: as after a crash
    with django_assert_num_queries(0):
        response = server_error(request)
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong on our side" in body
    assert 'href="/deals/"' in body
