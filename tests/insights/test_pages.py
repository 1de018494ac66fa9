"""The dashboard's pages: who may open them, the figures linked to their deals, the CSV of
what is shown, filters refused in words, and a query count that does not grow with deals."""

import csv
import io
import re
from html import unescape

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dealdesk.roles import navigation_for
from insights.figures import dashboard_figures
from insights.forms import DashboardFilterForm
from insights.tables import dashboard_tables
from tests.dealdesk.factories import AccountFactory
from tests.insights.conftest import PERIOD
from tests.insights.history import DAY, T0, move, through_signature, won_deal

URL = reverse("insights:dashboard")
QUERY = "date_from=2025-03-03&date_to=2025-03-30"


@pytest.fixture
def desk_client(client, make_user):
    user = make_user("Deal Desk")
    client.force_login(user)
    client.user = user
    return client


@pytest.mark.parametrize("role", ["Deal Desk", "Finance", "Executive", "Auditor"])
def test_the_roles_that_steer_the_process_see_the_dashboard(client, make_user, role):
    user = make_user(role)
    client.force_login(user)
    assert ("Dashboard", URL) in navigation_for(user)
    for name in ("insights:dashboard", "insights:export"):
        assert client.get(reverse(name)).status_code == 200


@pytest.mark.parametrize("role", ["Sales", "Legal", "CFO"])
def test_other_roles_are_refused(client, make_user, role):
    user = make_user(role)
    client.force_login(user)
    assert ("Dashboard", URL) not in navigation_for(user)
    for name in ("insights:dashboard", "insights:export", "insights:deals"):
        response = client.get(reverse(name), {"metric": "paid"})
        assert response.status_code == 403
        assert b"days" not in response.content


def test_anonymous_people_are_sent_to_log_in(client):
    assert client.get(URL).status_code in (302, 403)


def _board(user, query: dict):
    """The figures the page shows for `query`, straight from the code the page calls."""
    form = DashboardFilterForm(query)
    assert form.is_valid()
    return dashboard_figures(user=user, filters=form.filters())


def _links(html: str) -> dict[str, str]:
    """metric → the linked figure's text, as the page shows them."""
    return {
        unescape(metric): unescape(text)
        for metric, text in re.findall(r'data-metric="([^"]+)">([^<]+)</a>', html)
    }


def test_every_linked_number_lists_exactly_the_deals_it_counts(history, desk_client):
    response = desk_client.get(f"{URL}?{QUERY}")
    assert response.status_code == 200
    links = _links(response.content.decode())
    assert {"age:approved:4", "stage:drafted", "late:drafted", "paid", "approvals:Finance"} <= set(
        links
    )
    board = _board(desk_client.user, PERIOD)
    for metric, text in links.items():
        listed = desk_client.get(reverse("insights:deals"), {**PERIOD, "metric": metric})
        assert listed.status_code == 200, metric
        shown = [deal.pk for deal in listed.context["deals"]]
        assert shown == board.deal_ids(metric), metric
        assert len(shown) == int(text.replace(",", "")), metric
        assert listed.context["count"] == len(shown)


def test_the_deal_list_of_a_figure_says_which_figure_it_is(history, desk_client):
    listed = desk_client.get(reverse("insights:deals"), {**PERIOD, "metric": "overdue:signed"})
    html = listed.content.decode()
    assert "SLA breaches per stage: Signed, Overdue at period end" in html
    assert history.before.name in html
    assert history.paid.name not in html
    paid = desk_client.get(reverse("insights:deals"), {**PERIOD, "metric": "paid"})
    assert paid.context["figure"] == "Days from signature to first payment"


def test_an_unknown_figure_is_not_found(history, desk_client):
    for metric in ("", "age:nope", "stage:drafted:x", "age:approved:99", "approvals:Nobody"):
        response = desk_client.get(reverse("insights:deals"), {**PERIOD, "metric": metric})
        assert response.status_code == 404, metric


def test_the_csv_is_what_the_page_shows(history, desk_client):
    page = desk_client.get(f"{URL}?{QUERY}")
    response = desk_client.get(reverse("insights:export"), PERIOD)
    assert response["Content-Disposition"] == (
        'attachment; filename="dashboard-2025-03-03-2025-03-30.csv"'
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == [
        "Dealdesk process dashboard",
        "2025-03-03 to 2025-03-30",
        "segment: any",
        "pattern: any",
        "owner: any",
    ]
    expected = []
    for table in page.context["tables"]:
        expected += [[], [table.title], table.columns, *([c.text for c in r] for r in table.rows)]
    assert rows[1:] == expected[1:]
    # And the page shows each of those cells.
    html = unescape(page.content.decode())
    for row in rows[2:]:
        for cell in row:
            assert cell in html


def test_the_figures_table_values(history, desk_client):
    page = desk_client.get(f"{URL}?{QUERY}")
    tables = {t.key: t for t in page.context["tables"]}
    cycle = [[c.text for c in row] for row in tables["cycle"].rows]
    assert cycle[0] == ["Closed-Won → drafted", "3", "1.0", "3.4"]
    assert cycle[4] == ["Invoiced → paid", "1", "14.0", "14.0"]
    value = [[c.text for c in row] for row in tables["value"].rows]
    assert ["Out for signature", "EUR", "1", "2,000.00 EUR", "2,160.00 USD", "0"] in value
    assert value[-1] == ["All waiting deals", "≈ USD", "", "", "2,667.00 USD", ""]
    first_payment = [c.text for c in tables["first-payment"].rows[0]]
    assert first_payment == ["1", "15.0", "15.0", "15.0"]


def test_refused_filters_show_no_figures_and_say_why(history, desk_client):
    for query, message in [
        ({"date_from": "2025-03-30", "date_to": "2025-03-01"}, "The period starts after it ends."),
        ({"date_from": "2023-01-01", "date_to": "2025-03-01"}, "at most 366 days"),
        ({"owner": "'; DROP TABLE"}, "Select a valid choice"),
        ({"date_from": "yesterday"}, "Enter a valid date"),
    ]:
        response = desk_client.get(URL, query)
        assert response.status_code == 200
        assert message in response.content.decode()
        assert response.context.get("figures") is None
        assert desk_client.get(reverse("insights:export"), query).status_code == 400


def test_a_preset_wins_over_the_dates_the_page_sends_along(desk_client):
    response = desk_client.get(URL, {"preset": "4w", "date_from": "2025-03-03"})
    period = response.context["period"]
    assert response.context["form"].cleaned_data["preset"] == "4w"
    assert (period.last_day - period.first_day).days == 27


def test_the_charts_are_drawn_with_their_tables(history, desk_client):
    html = desk_client.get(f"{URL}?{QUERY}").content.decode()
    assert html.count('role="img"') == 2
    assert 'data-testid="chart-cycle-trend"' in html
    assert 'data-testid="chart-waiting"' in html
    assert "The figures as a table" in html


def _page_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"{URL}?{QUERY}").status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_deals(history, desk_client, make_user):
    few = _page_queries(desk_client)
    owner, account = make_user("Sales"), AccountFactory()
    for n in range(40):
        deal = won_deal(at=T0 + (n % 20) * DAY, owner=owner, account=account)
        move(deal, *through_signature(T0 + (n % 20) * DAY, drafted=1 + n % 3, approved=1)[: n % 4])
    many = _page_queries(desk_client)
    assert many == few
    assert many <= 20
    # The same figures straight from the code the page calls: the new deals count.
    board = _board(desk_client.user, PERIOD)
    assert len(board.deal_ids("stage:drafted")) == 3 + 20  # n % 4 in (2, 3): submitted
    assert dashboard_tables(board)


def test_worked_out_figures_are_kept_for_their_max_age_and_say_how_old(
    history, desk_client, settings
):
    """A dashboard open on many screens is worked out once a minute: the page says when, and
    "Work them out now" shows what changed meanwhile."""
    settings.INSIGHTS_FIGURES_MAX_AGE = 60
    cache.clear()
    first = desk_client.get(f"{URL}?{QUERY}").content.decode()
    assert "worked out at most once every 60 s" in first
    drafted = _links(first)["stage:drafted"]
    deal = won_deal(at=T0, owner=history.before.owner, account=AccountFactory())
    move(deal, *through_signature(T0, drafted=1, approved=1)[:2])
    with CaptureQueriesContext(connection) as queries:
        kept = desk_client.get(f"{URL}?{QUERY}").content.decode()
    assert _links(kept)["stage:drafted"] == drafted
    assert not any("audit_auditevent" in q["sql"] for q in queries.captured_queries)
    # The default period (a preset, ending at the moment it is asked for) is kept too.
    desk_client.get(URL)
    with CaptureQueriesContext(connection) as queries:
        desk_client.get(URL)
    assert not any("audit_auditevent" in q["sql"] for q in queries.captured_queries)
    now = desk_client.get(f"{URL}?{QUERY}&fresh=1").content.decode()
    assert int(_links(now)["stage:drafted"]) == int(drafted) + 1
    # Other filters are other figures, worked out for themselves.
    other = desk_client.get(URL, {**PERIOD, "pattern": "nope-not-a-pattern"})
    assert other.status_code == 200
    cache.clear()
