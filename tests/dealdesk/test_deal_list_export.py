"""The deal list as CSV: the page's filters and visibility, every matching row, streamed,
exact amounts, and no cell a spreadsheet would run as a formula."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dealdesk import deal_export
from tests.dealdesk.factories import AccountFactory, DealFactory, UserFactory

pytestmark = pytest.mark.django_db

EXPORT = reverse("deal-list-export")


def exported(client, **params) -> list[list[str]]:
    response = client.get(EXPORT, params)
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="deals.csv"'
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def desk(client, desk_user):
    client.force_login(desk_user)
    return client


def test_the_export_has_the_lists_columns_with_exact_amounts(desk):
    owner = UserFactory(username="alex", first_name="Alex", last_name="Kim", roles=["Sales"])
    DealFactory(
        crm_id="006A00000000001AAA",
        name="Platform renewal",
        account=AccountFactory(name="Acme"),
        owner=owner,
        state="approved",
        currency="EUR",
        tcv=Decimal("1234567.89"),
        close_date=date(2026, 11, 30),
    )
    DealFactory(name="Yen deal", currency="JPY", tcv=Decimal("1000000"), state="new")
    rows = exported(desk, sort="name")
    assert rows[0] == deal_export.COLUMNS
    assert rows[1] == [
        "006A00000000001AAA",
        "Platform renewal",
        "Acme",
        "Approved",
        "Deal Desk (send for signature)",
        "Alex Kim",
        "EUR",
        "1234567.89",
        "2026-11-30",
    ]
    assert rows[2][1:] == [
        "Yen deal",
        rows[2][2],
        "New",
        "Dealdesk (pricing)",
        rows[2][5],
        "JPY",
        "1000000",  # at the currency's minor unit: no yen cents
        "",  # no close date
    ]


def test_an_unpriced_deal_has_a_blank_amount_not_zero(desk):
    DealFactory(tcv=None)
    assert exported(desk)[1][7] == ""


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR"]
)
def test_a_cell_that_would_run_as_a_formula_is_kept_as_text(desk, name):
    DealFactory(name=name, account=AccountFactory(name=name))
    row = exported(desk)[1]
    assert row[1] == f"'{name}"
    assert row[2] == f"'{name}"


def test_harmless_text_is_left_alone():
    assert deal_export.safe_cell("Acme = Globex") == "Acme = Globex"
    assert deal_export.safe_cell("") == ""


def test_the_export_follows_the_pages_filters_and_order(desk):
    DealFactory(name="Acme renewal", state="drafting", account=AccountFactory(name="Acme"))
    DealFactory(name="Acme expansion", state="paid", account=AccountFactory(name="Acme"))
    DealFactory(name="Globex renewal", state="drafting", account=AccountFactory(name="Globex"))
    rows = exported(desk, q="renewal", state=["drafting", "paid"], sort="-name")
    assert [row[1] for row in rows[1:]] == ["Globex renewal", "Acme renewal"]


def test_sales_exports_only_its_own_deals(client, make_user):
    sales = make_user("Sales", username="sam")
    DealFactory(name="Mine", owner=sales)
    DealFactory(name="Theirs")
    client.force_login(sales)
    assert [row[1] for row in exported(client)[1:]] == ["Mine"]


def test_a_refused_filter_exports_nothing_and_says_why(desk):
    DealFactory()
    response = desk.get(EXPORT, {"q": "x" * 101})
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "Nothing exported: Search takes at most 100 characters" in response.content.decode()


def test_anonymous_users_are_sent_to_login(client):
    response = client.get(EXPORT)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_every_matching_row_in_chunks_of_bounded_queries(desk, monkeypatch):
    monkeypatch.setattr(deal_export, "CHUNK_SIZE", 4)
    DealFactory.create_batch(6, state="in_review")
    DealFactory.create_batch(4, state="paid")
    response = desk.get(EXPORT)
    with CaptureQueriesContext(connection) as queries:
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 11
    # The ids once, then per chunk of 4: its deals and (with one in review) the open
    # approval requests and legal reviews: 1 + 3 chunks × at most 3.
    assert len(queries) <= 1 + 3 * 3
    assert len(queries) >= 1 + 3  # and not everything in one go


def test_the_list_links_to_the_export_of_what_it_shows(desk):
    page = desk.get(reverse("deal-list"), {"q": "acme", "state": ["paid", "drafting"]})
    assert (
        'href="/deals/export.csv?q=acme&amp;state=paid&amp;state=drafting"' in page.content.decode()
    )
