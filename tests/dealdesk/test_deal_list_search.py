"""The deal list's search and state filter: every word must match, several states at once,
and a filter it cannot apply is said, never dropped for the whole list."""

import pytest
from django.urls import reverse

from tests.dealdesk.factories import AccountFactory, DealFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def deals(db):
    acme = AccountFactory(name="Acme", legal_name="Acme Logistics, Inc.")
    globex = AccountFactory(name="Globex", legal_name="Globex Corporation")
    return {
        "acme renewal": DealFactory(
            name="Platform renewal", account=acme, crm_id="006A00000000001AAA", state="drafting"
        ),
        "acme expansion": DealFactory(
            name="Seat expansion", account=acme, crm_id="006A00000000002AAA", state="in_review"
        ),
        "globex renewal": DealFactory(
            name="Platform renewal", account=globex, crm_id="006B00000000003AAA", state="paid"
        ),
    }


def shown(client, **params) -> set[str]:
    response = client.get(reverse("deal-list"), params)
    assert response.status_code == 200
    return {f"{deal.account.name} {deal.name}" for deal in response.context["deals"]}


@pytest.fixture
def desk(client, desk_user):
    client.force_login(desk_user)
    return client


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("acme renewal", {"Acme Platform renewal"}),  # account name + deal name
        ("RENEWAL logistics", {"Acme Platform renewal"}),  # legal name, any case
        ("renewal", {"Acme Platform renewal", "Globex Platform renewal"}),
        ("corporation platform", {"Globex Platform renewal"}),
        ("006A00000000002", {"Acme Seat expansion"}),  # Salesforce's 15-character id
        ("006a00000000002aaa seat", {"Acme Seat expansion"}),  # the 18, any case
        ("acme globex", set()),  # every word must match, not any
        ("  acme   acme  ", {"Acme Platform renewal", "Acme Seat expansion"}),
        ("100%", set()),  # LIKE's wildcards are searched for, not obeyed
        ("renewal_", set()),
    ],
)
def test_every_word_must_match_the_account_the_deal_or_its_crm_id(desk, deals, q, expected):
    assert shown(desk, q=q) == expected


def test_a_crm_id_matches_from_its_start_only(desk, deals):
    assert shown(desk, q="00000000002AAA") == set()


def test_a_search_of_100_characters_is_applied(desk, deals):
    q = "acme " + "x" * 95
    assert len(q) == 100
    assert shown(desk, q=q) == set()  # searched, and nothing is called "xxx…"


def test_a_search_over_100_characters_shows_why_and_no_deals(desk, deals):
    q = "acme " + "renewal " * 20
    assert len(q.strip()) > 100
    response = desk.get(reverse("deal-list"), {"q": q})
    page = response.content.decode()
    assert response.context["deals"] == []
    assert "Search takes at most 100 characters (this one has 164)" in page
    assert "No deals shown: fix the filters above." in page
    assert 'data-testid="deal-count">0 deals<' in page
    assert "Platform renewal" not in page
    # What was typed stays in the box, to be shortened.
    assert f'value="{q}"' in page


def test_several_states_at_once(desk, deals):
    assert shown(desk, state=["drafting", "paid"]) == {
        "Acme Platform renewal",
        "Globex Platform renewal",
    }
    page = desk.get(reverse("deal-list"), {"state": ["drafting", "paid"]}).content.decode()
    assert '<option value="drafting" selected>Drafting</option>' in page
    assert '<option value="paid" selected>Paid</option>' in page
    assert '<option value="in_review">In review</option>' in page
    assert "State: Drafting, Paid</div>" in page  # named above the listbox
    assert "State: any</div>" in desk.get(reverse("deal-list")).content.decode()


def test_old_single_state_links_keep_working(desk, deals):
    assert shown(desk, state="in_review") == {"Acme Seat expansion"}
    # The former single select sent state= for "Any state".
    assert len(shown(desk, state="", q="acme")) == 2


def test_states_and_words_combine(desk, deals):
    assert shown(desk, state=["drafting", "in_review"], q="renewal") == {"Acme Platform renewal"}


def test_an_unknown_state_is_said_and_shows_no_deals(desk, deals):
    response = desk.get(reverse("deal-list"), {"state": ["paid", "<b>bogus</b>"]})
    page = response.content.decode()
    assert response.context["deals"] == []
    assert "&lt;b&gt;bogus&lt;/b&gt; is not one of the available choices" in page
    assert "<b>bogus</b>" not in page


def test_an_unknown_sort_orders_the_default_way_and_hides_nothing(desk, deals):
    assert len(shown(desk, sort="password")) == 3
    assert len(shown(desk, sort="--name")) == 3
    names = [d.name for d in desk.get(reverse("deal-list"), {"sort": "-name"}).context["deals"]]
    assert names == sorted(names, reverse=True)


def test_sales_searches_only_its_own_deals(client, make_user, deals):
    sales = make_user("Sales", username="sam")
    DealFactory(name="Sam's renewal", owner=sales, account=deals["acme renewal"].account)
    client.force_login(sales)
    assert shown(client, q="acme renewal") == {"Acme Sam's renewal"}
    # The owner filter is not Sales': naming one is refused, not ignored.
    response = client.get(reverse("deal-list"), {"owner": "someone"})
    assert response.context["deals"] == []
    assert "Select a valid choice" in response.content.decode()
