"""The demo's clock: a deal walked through the real services inside it leaves an audit trail
spread over the days it waited, starting when the demo says, and nothing outside is moved."""

import datetime
import random

from django.utils import timezone
from django_fsm.signals import pre_transition

from audit.models import AuditEvent
from dealdesk import services
from dealdesk.models import Deal
from insights.demo import DAYS_IN_STATE, demo_clock, demo_start
from tests.dealdesk.factories import AccountFactory


def test_a_deal_walked_in_the_demo_clock_waits_in_each_state(make_user):
    start = datetime.datetime(2025, 3, 3, 14, tzinfo=datetime.UTC)
    spec = services.DealSpec(
        crm_id="006DEMOCLOCK01",
        name="Clocked",
        account=AccountFactory(),
        owner=make_user("Sales"),
        start_date=datetime.date(2025, 4, 1),
        term_months=12,
    )
    bot = services.pipeline_user()
    with demo_clock(start, random.Random(1)):
        deal = services.deal_create(spec=spec, actor=bot)
        for step in ("start_drafting", "submit_for_review", "approve"):
            getattr(services, f"deal_{step}")(deal_id=deal.pk, actor=bot)
    times = list(
        AuditEvent.objects.filter(object_type="dealdesk.deal", object_id=str(deal.pk))
        .order_by("seq")
        .values_list("action", "occurred_at")
    )
    assert [action for action, _ in times] == [
        "deal.created",
        "deal.drafting_started",
        "deal.submitted_for_review",
        "deal.approved",
    ]
    assert times[0][1] == start
    for (_, before), (_, after), state in zip(
        times[:-1], times[1:], ["new", "drafting", "in_review"], strict=True
    ):
        shortest, longest = DAYS_IN_STATE[state]
        assert shortest <= (after - before) / datetime.timedelta(days=1) <= longest
    assert Deal.objects.get(pk=deal.pk).state_changed_at == times[-1][1]
    # Outside the block the clock is real again and no transition moves it.
    assert timezone.now() > datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    assert all("insights.demo_clock" not in str(r[0]) for r in pre_transition.receivers)


def test_demo_deals_start_spread_over_the_weeks_before_today():
    now = timezone.now()
    starts = [demo_start(n, 10, weeks=12) for n in range(10)]
    assert starts == sorted(starts)
    assert now - datetime.timedelta(weeks=12, minutes=1) <= starts[0] <= now
    assert starts[-1] <= now
