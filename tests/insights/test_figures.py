"""The dashboard's figures on a constructed past (conftest.History): every number as worked
out by hand from the times the deals moved."""

import datetime
from decimal import Decimal

import pytest

from insights.figures import dashboard_figures, percentile
from insights.forms import DashboardFilterForm
from tests.insights.conftest import PERIOD


def figures(user, **query):
    form = DashboardFilterForm({**PERIOD, **query})
    assert form.is_valid(), form.errors
    return dashboard_figures(user=user, filters=form.filters())


@pytest.fixture
def desk(make_user):
    return make_user("Deal Desk")


def test_aging_is_the_state_at_the_period_end_and_the_time_since_its_audit_event(history, desk):
    board = figures(desk)
    # 0–2, 3–7, 8–14, 15–30, over 30 days (indexes 0..4); paid and cancelled wait for nobody.
    assert board.aging == {
        ("out_for_signature", 3): 1,  # since 10 March: 20.6 days on 31 March
        ("drafting", 1): 1,  # since 23 March: 7.6 days
        ("approved", 2): 1,  # reworked, approved 16 March: 14.6 days
        ("approved", 4): 1,  # approved 3 February
    }
    assert board.deal_ids("age:approved") == sorted([history.reworked.pk, history.before.pk])
    assert board.deal_ids("age:approved:4") == [history.before.pk]
    assert board.deal_ids("age:out_for_signature:3") == [history.slow_draft.pk]
    assert board.deal_ids("age:paid") is None  # not a figure the dashboard shows


def test_the_past_stays_as_it_was_when_deals_moved_on(history, desk):
    # At the end of 11 March the paid deal was out for signature (since 6 March), the
    # reworked one in review (since 11 March), and the drafting one not yet won.
    board = figures(desk, date_from="2025-03-03", date_to="2025-03-11")
    assert board.deal_ids("age:out_for_signature") == [history.paid.pk, history.slow_draft.pk]
    assert board.deal_ids("age:in_review") == [history.reworked.pk]
    assert board.deal_ids("age:drafting") == []
    assert board.deal_ids("overdue:drafted") == []


def test_cycle_time_per_stage_median_and_p90(history, desk):
    board = figures(desk)
    drafted, approved = board.stage_spread("drafted"), board.stage_spread("approved")
    assert (drafted.count, drafted.median, round(drafted.p90, 6)) == (3, 1.0, 3.4)
    assert (approved.count, approved.median, round(approved.p90, 6)) == (3, 2.0, 4.4)
    assert board.stage_spread("signed").median == 7.0
    assert board.stage_spread("invoiced").median == 1.0
    assert board.stage_spread("paid").median == 14.0
    assert board.deal_ids("stage:drafted") == sorted(
        [history.paid.pk, history.slow_draft.pk, history.reworked.pk]
    )


def test_cycle_time_per_week_counts_a_stage_in_the_week_it_ended(history, desk):
    board = figures(desk)
    week1, week2 = datetime.date(2025, 3, 3), datetime.date(2025, 3, 10)
    assert board.stage_spread("drafted", week1).median == 2.5  # 1 and 4 days
    assert board.stage_spread("approved", week2).median == 3.0  # 1 and 5 days
    assert board.deal_ids("stage:approved:2025-03-10") == sorted(
        [history.slow_draft.pk, history.reworked.pk]
    )
    assert board.stage_spread("paid", datetime.date(2025, 3, 24)).count == 1
    assert board.deal_ids("stage:approved:not-a-week") is None


def test_days_from_signature_to_first_payment(history, desk):
    board = figures(desk)
    assert board.days_to_first_payment == [(history.paid.pk, 15)]
    assert board.deal_ids("paid") == [history.paid.pk]
    assert figures(desk, date_from="2025-03-03", date_to="2025-03-27").days_to_first_payment == []


def test_approval_turnaround_per_group_counts_decisions_inside_the_period(history, desk):
    board = figures(desk)
    finance = board.approval_spread("Finance")
    assert (finance.count, finance.median, round(finance.p90, 6)) == (2, 15.0, 22.2)
    assert board.approvals["Executive"] == [(history.slow_draft.pk, 2.0, True)]
    assert board.deal_ids("approvals:Finance") == sorted([history.paid.pk, history.reworked.pk])


def test_value_waiting_per_state_and_currency_never_adds_currencies(history, desk):
    board = figures(desk)
    assert board.waiting_value == {
        "out_for_signature": {"EUR": (1, Decimal("2000.000"), 0)},
        "drafting": {"USD": (1, Decimal(0), 1)},
        "approved": {"USD": (2, Decimal("507.000"), 0)},
    }
    # Converted only for comparison, at the policy's rate (1.08 USD per EUR by default).
    assert board.converted("EUR", Decimal(2000)) == Decimal("2160.00000")
    assert board.converted("JPY", Decimal(2000)) is None
    assert board.deal_ids("value:out_for_signature:EUR") == [history.slow_draft.pk]


def test_sla_breaches_ended_late_and_overdue_at_the_end(history, desk, settings):
    board = figures(desk)
    assert board.deal_ids("late:drafted") == [history.slow_draft.pk]  # 4 days, SLA 2
    assert board.deal_ids("late:approved") == []  # 5 days is not over 5
    assert board.deal_ids("overdue:drafted") == [history.drafting.pk]
    assert board.deal_ids("overdue:signed") == sorted(
        [history.slow_draft.pk, history.reworked.pk, history.before.pk]
    )
    settings.INSIGHTS_STAGE_SLA_DAYS = {**settings.INSIGHTS_STAGE_SLA_DAYS, "signed": 15}
    assert figures(desk).deal_ids("overdue:signed") == sorted(
        [history.slow_draft.pk, history.before.pk]
    )


def test_owner_pattern_and_segment_filters(history, desk):
    for query in ({"owner": "alex"}, {"pattern": "multi_product"}, {"segment": "enterprise"}):
        board = figures(desk, **query)
        assert board.deal_ids("stage:drafted") == [history.reworked.pk]
        assert board.aging == {("approved", 2): 1}
        assert board.days_to_first_payment == []
        assert board.deal_ids("approvals:Finance") == [history.reworked.pk]


def test_segment_is_the_account_s_by_the_bands_in_force(history, desk, settings):
    smb = figures(desk, segment="smb")
    assert history.reworked.pk not in smb.deal_ids("stage:drafted")
    assert history.paid.pk in smb.deal_ids("stage:drafted")
    assert figures(desk, segment="unknown").deal_ids("stage:drafted") == []
    assert figures(desk, segment="mid_market").deal_ids("stage:drafted") == []
    # Moving the bounds re-segments every deal, the past included.
    settings.ACCOUNT_SEGMENT_BANDS = [10, 100]
    assert figures(desk, segment="mid_market").deal_ids("stage:drafted") == smb.deal_ids(
        "stage:drafted"
    )
    assert figures(desk, segment="enterprise").deal_ids("stage:drafted") == [history.reworked.pk]


def test_percentile_interpolates_like_postgresql():
    assert percentile([], 50) is None
    assert percentile([4.0], 90) == 4.0
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10, 1, 5], 90) == pytest.approx(9.0)
