"""Every kind of stopped work appears in the inbox with its group, age, SLA and link, for the
people whose roles act on it; rows that no longer wait leave it."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from inbox.selectors import InboxFilters, inbox_page, kind_counts, waiting_count
from tests.inbox import factories as f

pytestmark = pytest.mark.django_db


def _rows(user, **filters):
    _page, rows = inbox_page(user=user, filters=InboxFilters(**filters), now=timezone.now())
    return rows


def _one_of_each(hours: float = 30) -> dict[str, object]:
    """A row of every kind, `hours` old (over every default SLA but AR's 72 h)."""
    since = f.ago(hours)
    return {
        "manual_review": f.deal_in("manual_review", since=since, reason="no pattern fits"),
        "changes_requested": f.deal_in("changes_requested", since=since, reason="Legal: cap"),
        "signature": f.signature_request(
            state="expired", since=since, deal_state="approved", reason="expired unsigned"
        ),
        "crm_quarantine": f.quarantined(since=since),
        "crm_drift": f.drift(since=since),
        "billing_exception": f.billing_exception(since=since),
        "ar_item": f.ar_item(since=since),
        "dead_step": f.dead_step(since=since),
        "dead_event": f.dead_event(since=since),
    }


EXPECTED = {
    # kind: (group, link)
    "manual_review": ("Deal Desk", lambda o: reverse("deal-detail", args=[o.pk])),
    "changes_requested": ("Deal Desk", lambda o: reverse("deal-detail", args=[o.pk])),
    "signature": ("Deal Desk", lambda o: reverse("deal-detail", args=[o.deal_id])),
    "crm_quarantine": (
        "Deal Desk",
        lambda o: f"{reverse('crm-sync')}?tab=quarantine&q={o.crm_id}",
    ),
    "crm_drift": ("Deal Desk", lambda o: reverse("deal-detail", args=[o.deal_id])),
    "billing_exception": ("Finance", lambda o: reverse("billing:exception", args=[o.pk])),
    "ar_item": ("Finance", lambda o: reverse("billing:ar-item", args=[o.pk])),
    "dead_step": (
        "Admin",
        lambda o: reverse("admin:integrations_outboxmessage_change", args=[o.pk]),
    ),
    "dead_event": (
        "Admin",
        lambda o: reverse("admin:integrations_webhookevent_change", args=[o.pk]),
    ),
}


def test_every_kind_appears_with_its_group_age_sla_and_link(make_user, settings):
    settings.INBOX_SLA_HOURS = {**settings.INBOX_SLA_HOURS, "ar_item": 72}
    made = _one_of_each(hours=30)
    admin = make_user(is_superuser=True, is_staff=True)
    rows = {row.kind: row for row in _rows(admin)}
    assert set(rows) == set(EXPECTED)
    for kind, (group, link) in EXPECTED.items():
        row = rows[kind]
        assert row.group == group, kind
        assert row.described.url == link(made[kind]), kind
        assert row.key == str(made[kind].pk)
        assert timedelta(hours=29.9) < row.age < timedelta(hours=30.1), kind
        assert row.sla_hours == settings.INBOX_SLA_HOURS[kind]
        assert row.breached is (kind != "ar_item"), kind
    assert rows["manual_review"].described.reason == "no pattern fits"
    assert rows["billing_exception"].described.reason == "no billing contact"
    assert rows["dead_step"].described.reason == "ValueError: boom"
    assert rows["signature"].described.reason == "expired unsigned"


def test_oldest_first_across_kinds(make_user):
    young = f.ar_item(since=f.ago(1))
    old = f.billing_exception(since=f.ago(50))
    middle = f.dead_step(since=f.ago(10), task="billing.tasks.issue_due")
    rows = _rows(make_user("Finance"))
    assert [(r.kind, r.key) for r in rows] == [
        ("billing_exception", str(old.pk)),
        ("dead_step", str(middle.pk)),
        ("ar_item", str(young.pk)),
    ]


def test_the_sla_setting_decides_what_is_breached(make_user, settings):
    f.ar_item(since=f.ago(5))
    finance = make_user("Finance")
    settings.INBOX_SLA_HOURS = {"ar_item": 6}
    assert [r.breached for r in _rows(finance)] == [False]
    assert _rows(finance, breached=True) == []
    settings.INBOX_SLA_HOURS = {"ar_item": 4}
    assert [r.breached for r in _rows(finance, breached=True)] == [True]


def test_each_role_sees_the_kinds_it_acts_on(make_user):
    _one_of_each()
    f.dead_step(since=f.ago(2), task="billing.tasks.issue_due")
    f.dead_event(since=f.ago(2), vendor="stripe")
    seen = {
        role: sorted({(r.kind, r.group) for r in _rows(make_user(role))})
        for role in ("Finance", "Deal Desk", "Legal", "Sales", "Auditor")
    }
    assert seen["Finance"] == [
        ("ar_item", "Finance"),
        ("billing_exception", "Finance"),
        ("dead_event", "Finance"),
        ("dead_step", "Finance"),
    ]
    assert seen["Deal Desk"] == [
        ("changes_requested", "Deal Desk"),
        ("crm_drift", "Deal Desk"),
        ("crm_quarantine", "Deal Desk"),
        ("manual_review", "Deal Desk"),
        ("signature", "Deal Desk"),
    ]
    assert seen["Legal"] == seen["Sales"] == seen["Auditor"] == []


def test_staff_who_run_the_integrations_see_every_dead_letter(make_user):
    from django.contrib.auth.models import Permission

    billing_step = f.dead_step(since=f.ago(3), task="billing.tasks.issue_due")
    other_step = f.dead_step(since=f.ago(2))
    admin = make_user(is_staff=True)
    admin.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_outboxmessage", "retry_outboxmessage", "use_inbox"]
        )
    )
    rows = _rows(admin)
    assert [(r.key, r.group) for r in rows] == [
        (str(billing_step.pk), "Finance"),
        (str(other_step.pk), "Admin"),
    ]
    assert rows[0].described.url == reverse("billing:dead-letters")
    assert _rows(admin, group="Admin")[0].key == str(other_step.pk)


def test_what_stopped_waiting_leaves_the_inbox(make_user):
    made = _one_of_each()
    deal = made["manual_review"]
    type(deal).objects.filter(pk=deal.pk).update(state="drafting")
    made["crm_quarantine"].__class__.objects.filter(pk=made["crm_quarantine"].pk).update(
        resolved_at=timezone.now()
    )
    kinds = {r.kind for r in _rows(make_user("Deal Desk"))}
    assert "manual_review" not in kinds
    assert "crm_quarantine" not in kinds


def test_a_declined_signature_is_one_row_not_also_changes_requested(make_user):
    declined = f.signature_request(
        state="declined",
        since=f.ago(3),
        deal_state="changes_requested",
        reason="Ann declined to sign: wrong price",
    )
    rows = _rows(make_user("Deal Desk"))
    assert [(r.kind, r.key) for r in rows] == [("signature", str(declined.pk))]
    assert rows[0].described.reason == "Ann declined to sign: wrong price"
    # Redrafted (a newer version) and sent back again by an approver: changes requested now.
    type(declined.version).objects.filter(pk=declined.version_id).update(state="superseded")
    f.version_of(declined.deal, number=2, state="draft")
    rows = _rows(make_user("Deal Desk"))
    assert [(r.kind, r.key) for r in rows] == [("changes_requested", str(declined.deal_id))]


def test_an_expired_round_stops_waiting_once_a_new_round_exists(make_user):
    expired = f.signature_request(state="expired", since=f.ago(3), deal_state="approved")
    blocked = f.signature_request(
        state="draft", since=f.ago(2), deal_state="approved", blocked="no countersigner"
    )
    desk = make_user("Deal Desk")
    assert [r.key for r in _rows(desk)] == [str(expired.pk), str(blocked.pk)]
    assert _rows(desk)[1].described.reason == "no countersigner"
    type(expired).objects.create(
        deal=expired.deal,
        version=expired.version,
        backend="local",
        state="sent",
        document_sha256="0" * 64,
        created_by=expired.created_by,
    )
    assert [r.key for r in _rows(desk)] == [str(blocked.pk)]


def test_counts_per_kind_and_the_nav_count(make_user):
    for _ in range(3):
        f.ar_item(since=f.ago(1))
    f.billing_exception(since=f.ago(1))
    f.deal_in("manual_review", since=f.ago(1))
    finance = make_user("Finance")
    counts = kind_counts(user=finance, filters=InboxFilters(), now=timezone.now())
    assert counts == {"billing_exception": 1, "ar_item": 3, "dead_step": 0, "dead_event": 0}
    assert waiting_count(user=finance) == 4
    assert waiting_count(user=make_user("Deal Desk")) == 1
    assert waiting_count(user=make_user("Legal")) == 0
