"""Saved deal-list filters: each person's own, named, cleaned before they are kept."""

import pytest
from django.test import Client
from django.urls import reverse

from dealdesk.models import SavedDealFilter
from dealdesk.saved_filters import SAVED_FILTERS_PER_USER
from tests.dealdesk.factories import DealFactory, UserFactory

pytestmark = pytest.mark.django_db

SAVE = reverse("deal-filter-save")


@pytest.fixture
def desk(client, desk_user):
    client.force_login(desk_user)
    return client


def test_a_filter_is_saved_cleaned_and_listed_as_a_link(desk, desk_user):
    UserFactory(username="alex", roles=["Sales"])
    query = "q=acme++renewal&state=drafting&state=in_review&owner=alex&sort=-tcv&page=4&x=1"
    response = desk.post(SAVE, {"name": "  My renewals ", "query": query})
    saved = SavedDealFilter.objects.get(user=desk_user)
    assert saved.name == "My renewals"
    # Only the filters, as cleaned: no page, no unknown parameter.
    assert (
        saved.query_string == "q=acme++renewal&state=drafting&state=in_review&owner=alex&sort=-tcv"
    )
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('deal-list')}?{saved.query_string}"
    page = desk.get(response["Location"]).content.decode()
    assert "Saved the filter “My renewals”." in page
    assert f'href="/deals/?{saved.query_string.replace("&", "&amp;")}">My renewals</a>' in page


def test_saving_under_a_name_again_replaces_that_filter(desk, desk_user):
    desk.post(SAVE, {"name": "Mine", "query": "state=paid"})
    response = desk.post(SAVE, {"name": "Mine", "query": "state=drafting"}, follow=True)
    assert list(SavedDealFilter.objects.values_list("name", "query_string")) == [
        ("Mine", "state=drafting")
    ]
    assert "Updated the filter “Mine”." in response.content.decode()


def test_a_filter_needs_a_name(desk):
    response = desk.post(SAVE, {"name": "  ", "query": "state=paid"}, follow=True)
    assert not SavedDealFilter.objects.exists()
    assert "Name the filter to save it." in response.content.decode()
    # Back to the list as it was filtered.
    assert response.redirect_chain[-1][0] == f"{reverse('deal-list')}?state=paid"


@pytest.mark.parametrize(
    ("query", "why"),
    [
        ("state=bogus", "bogus is not one of the available choices"),
        ("q=" + "x" * 101, "Search takes at most 100 characters"),
        ("owner=nobody", "nobody is not one of the available choices"),
    ],
)
def test_a_filter_the_list_would_refuse_is_not_saved(desk, query, why):
    response = desk.post(SAVE, {"name": "Bad", "query": query}, follow=True)
    assert not SavedDealFilter.objects.exists()
    page = response.content.decode()
    assert "This filter cannot be saved:" in page
    assert why in page
    assert response.redirect_chain[-1][0] == reverse("deal-list")


def test_hostile_input_is_kept_inert(desk, desk_user):
    name = '<script>alert("x")</script>'
    query = "q=%22%3E%3Cscript%3Ealert(1)%3C/script%3E&next=https://evil.example"
    desk.post(SAVE, {"name": name, "query": query})
    saved = SavedDealFilter.objects.get(user=desk_user)
    assert saved.name == name
    assert "next" not in saved.query_string
    page = desk.get(reverse("deal-list")).content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_a_control_character_is_refused_before_anything_is_saved(desk):
    response = desk.post(SAVE, {"name": "nul\x00", "query": "state=paid"})
    assert response.status_code == 400
    assert not SavedDealFilter.objects.exists()


def test_saving_needs_a_post_with_the_csrf_token(desk_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(desk_user)
    assert client.get(SAVE).status_code == 405
    assert client.post(SAVE, {"name": "x", "query": ""}).status_code == 403
    assert not SavedDealFilter.objects.exists()


def test_one_person_keeps_a_bounded_number_of_filters(desk, desk_user):
    SavedDealFilter.objects.bulk_create(
        SavedDealFilter(user=desk_user, name=f"f{n}", query_string="")
        for n in range(SAVED_FILTERS_PER_USER)
    )
    response = desk.post(SAVE, {"name": "one more", "query": ""}, follow=True)
    assert "delete one first" in response.content.decode()
    assert SavedDealFilter.objects.count() == SAVED_FILTERS_PER_USER
    desk.post(SAVE, {"name": "f3", "query": "state=paid"})  # replacing one is fine
    assert SavedDealFilter.objects.get(name="f3").query_string == "state=paid"


def test_nobody_sees_or_deletes_another_users_filters(client, desk_user, make_user):
    theirs = SavedDealFilter.objects.create(user=desk_user, name="Desk's secret", query_string="")
    other = make_user("Deal Desk", username="other")
    client.force_login(other)
    page = client.get(reverse("deal-list")).content.decode()
    assert "Desk&#x27;s secret" not in page
    assert "Desk's secret" not in page
    response = client.post(reverse("deal-filter-delete", args=[theirs.pk]))
    assert response.status_code == 404
    assert SavedDealFilter.objects.filter(pk=theirs.pk).exists()


def test_a_person_deletes_their_own_filter_and_goes_back(desk, desk_user):
    mine = SavedDealFilter.objects.create(user=desk_user, name="Old", query_string="state=paid")
    response = desk.post(
        reverse("deal-filter-delete", args=[mine.pk]), {"next": "/deals/?state=paid"}
    )
    assert response["Location"] == "/deals/?state=paid"
    assert not SavedDealFilter.objects.exists()
    response = desk.post(reverse("deal-filter-delete", args=[mine.pk]))
    assert response.status_code == 404


def test_a_saved_filter_is_applied_like_a_typed_one(desk, desk_user):
    DealFactory(name="Kept", state="paid")
    DealFactory(name="Hidden", state="drafting")
    desk.post(SAVE, {"name": "Paid", "query": "state=paid"})
    saved = SavedDealFilter.objects.get()
    response = desk.get(f"{reverse('deal-list')}?{saved.query_string}")
    assert [d.name for d in response.context["deals"]] == ["Kept"]


def test_a_saved_filter_keeps_each_state_once_and_drops_empty_ones(desk, desk_user):
    desk.post(SAVE, {"name": "Paid", "query": "state=paid&state=&state=paid&q=+"})
    assert SavedDealFilter.objects.get().query_string == "state=paid"
