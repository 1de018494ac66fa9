"""One constructed past shared by the dashboard's tests: five deals moved through their
stages at known times in March 2025 (tests/insights/history.py), and the figures they give."""

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from dealdesk.models import Deal
from tests.dealdesk.factories import AccountFactory
from tests.insights.history import (
    DAY,
    HOUR,
    T0,
    decided_request,
    first_paid,
    move,
    through_signature,
    won_deal,
)

# The four weeks from Monday 3 March 2025 to Sunday 30 March 2025.
PERIOD = {"date_from": "2025-03-03", "date_to": "2025-03-30"}


@dataclass
class History:
    paid: Deal  # through every stage, first paid inside the period
    slow_draft: Deal  # drafted late (4 days), out for signature since day 7 (overdue)
    drafting: Deal  # won on day 20, still drafting at the end (overdue)
    cancelled: Deal
    reworked: Deal  # changes requested once; another owner, pattern and segment
    before: Deal  # every stage before the period


@pytest.fixture
def history(make_user):
    sam, alex = make_user("Sales", username="sam"), make_user("Sales", username="alex")
    account = AccountFactory(employees=50)  # SMB; the reworked deal's is Enterprise
    paid = won_deal(at=T0, owner=sam, account=account, tcv=Decimal("1000.00"))
    move(
        paid,
        *through_signature(T0, drafted=1, approved=2),
        ("send_for_signature", T0 + 3 * DAY + HOUR),
        ("mark_signed", T0 + 10 * DAY),
        ("start_billing", T0 + 10 * DAY + HOUR),
        ("mark_invoiced", T0 + 11 * DAY),
        ("mark_paid", T0 + 25 * DAY),
    )
    first_paid(paid, signed_on=(T0 + 10 * DAY).date(), paid_on=(T0 + 25 * DAY).date())

    slow = won_deal(
        at=T0 + 2 * DAY, owner=sam, account=account, currency="EUR", tcv=Decimal("2000.00")
    )
    move(
        slow,
        *through_signature(T0 + 2 * DAY, drafted=4, approved=1),
        ("send_for_signature", T0 + 7 * DAY + HOUR),
    )
    drafting = won_deal(at=T0 + 20 * DAY, owner=sam, account=account)
    move(drafting, ("start_drafting", T0 + 20 * DAY))
    cancelled = won_deal(at=T0, owner=sam, account=account, tcv=Decimal("9.00"))
    move(cancelled, ("start_drafting", T0 + HOUR), ("cancel", T0 + 5 * DAY))
    reworked = won_deal(
        at=T0 + 7 * DAY,
        owner=alex,
        account=AccountFactory(employees=5000),
        pattern="multi_product",
        tcv=Decimal("500"),
    )
    move(
        reworked,
        ("start_drafting", T0 + 7 * DAY + HOUR),
        ("submit_for_review", T0 + 8 * DAY),
        ("request_changes", T0 + 9 * DAY),
        ("redraft", T0 + 10 * DAY),
        ("submit_for_review", T0 + 12 * DAY),
        ("approve", T0 + 13 * DAY),
    )
    before = won_deal(at=T0 - 30 * DAY, owner=sam, account=account, tcv=Decimal("7"))
    move(before, *through_signature(T0 - 30 * DAY, drafted=1, approved=1))

    finance, executive = Group.objects.get(name="Finance"), Group.objects.get(name="Executive")
    decided_request(paid, finance, asked=T0 + 2 * DAY, decided=T0 + 2 * DAY + 6 * HOUR)
    decided_request(reworked, finance, asked=T0 + 12 * DAY, decided=T0 + 13 * DAY)
    decided_request(
        slow, executive, asked=T0 + 6 * DAY, decided=T0 + 6 * DAY + 2 * HOUR, state="rejected"
    )
    decided_request(slow, finance, asked=T0 + 30 * DAY, decided=T0 + 40 * DAY)  # after
    decided_request(drafting, finance, asked=T0 + 21 * DAY, decided=None)  # still open
    return History(paid, slow, drafting, cancelled, reworked, before)
