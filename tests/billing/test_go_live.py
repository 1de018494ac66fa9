"""Billing that starts at go-live: the signed deal waits for the date, then bills from it;
the date from the deal page (Deal Desk, Finance) or from the product's token-authenticated
endpoint."""

import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone

from approvals.models import ApprovalRequest
from audit.models import AuditEvent
from billing import go_live, services
from billing.models import BillingRecord, Invoice
from dealdesk.services import pipeline_user
from tests.billing.conftest import (  # noqa: F401
    _seal_and_mail,
    approve,
    approvers,
    countersigner,
    media_root,
    new_deal,
    sign,
    won_deal,
)

GO_LIVE_NOTES = "Net 60, PO required (PO-4471) on all invoices. Billing starts on go-live."
TOKEN = "golive-test-token-0123456789abcdef"


@pytest.fixture
def waiting_deal(
    won_deal,  # noqa: F811
    approve,  # noqa: F811
    approvers,  # noqa: F811
    countersigner,  # noqa: F811
    sign,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    """waiting_deal(**fields) → a deal signed with billing at go-live, waiting for its date
    (a billing start at go-live is non-standard: its approval steps are granted first)."""
    from approvals.services import approval_request_decide
    from contracts.esign.models import Signer

    def make(**fields):
        deal = approve(won_deal(notes=GO_LIVE_NOTES, **fields))
        while step := ApprovalRequest.objects.filter(deal=deal, state="pending").first():
            with django_capture_on_commit_callbacks(execute=True):
                approval_request_decide(
                    request_id=step.pk, actor=approvers[step.group.name], approve=True
                )
        deal.refresh_from_db()
        assert deal.state == "out_for_signature", deal.state
        while signer := Signer.objects.filter(request__deal=deal, state="notified").first():
            sign(signer)
        deal.refresh_from_db()
        return deal

    return make


@pytest.fixture
def set_go_live(django_capture_on_commit_callbacks):
    def run(deal, go_live_on, actor, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return go_live.billing_go_live_set(
                deal_id=deal.pk, go_live_on=go_live_on, actor=actor, **kwargs
            )

    return run


def go_live_events():
    return AuditEvent.objects.filter(action="billing_record.go_live_set")


def test_a_deal_billed_at_go_live_waits_signed_with_nothing_in_the_ledger(waiting_deal):
    deal = waiting_deal()
    record = BillingRecord.objects.get(deal=deal)
    assert deal.state == "signed"
    assert record.state == "pending"
    assert record.go_live_on is None
    assert record.order["billing_start"]["mode"] == "on_go_live"  # checked, stored as evidence
    assert go_live.awaits_go_live(record)
    assert not Invoice.objects.filter(deal=deal).exists()
    # The pipeline running billing again (a retry, bill_deal) still waits.
    assert services.billing_start(deal_id=deal.pk, actor=pipeline_user()).state == "pending"
    assert not Invoice.objects.filter(deal=deal).exists()


def test_deal_desk_enters_go_live_and_the_first_invoice_is_issued_from_it(
    waiting_deal, set_go_live, desk_user
):
    deal = waiting_deal()
    today = timezone.localdate()
    record = set_go_live(deal, today, desk_user, reason="customer live in production")
    deal.refresh_from_db()
    assert record.go_live_on == today
    assert record.state == "created"
    assert record.order["go_live_on"] == today.isoformat()
    assert deal.state == "invoiced"
    first = Invoice.objects.get(deal=deal, plan_index=1)
    assert first.state == "issued"
    assert first.issue_on == today
    assert first.due_on == today + timedelta(days=60)
    assert not go_live.awaits_go_live(record)
    (event,) = go_live_events()
    assert event.actor == desk_user
    assert event.data == {"source": "person"}
    assert event.after == {"go_live_on": today.isoformat()}
    assert event.reason == "customer live in production"
    assert record.history.filter(go_live_on=today, history_user=desk_user).exists()


def test_a_future_go_live_dates_the_first_invoice_on_that_day(waiting_deal, set_go_live, make_user):
    deal = waiting_deal()
    day = timezone.localdate() + timedelta(days=10)
    set_go_live(deal, day, make_user("Finance"))
    deal.refresh_from_db()
    first = Invoice.objects.get(deal=deal, plan_index=1)
    assert deal.state == "billing"
    assert (first.state, first.issue_on) == ("draft", day)
    assert services.invoices_issue_due(actor=pipeline_user(), today=day - timedelta(days=1)) == 0
    assert services.invoices_issue_due(actor=pipeline_user(), today=day) == 1
    deal.refresh_from_db()
    assert deal.state == "invoiced"


def test_the_same_date_again_changes_nothing_and_a_different_one_is_refused(
    waiting_deal, set_go_live, desk_user
):
    deal = waiting_deal()
    today = timezone.localdate()
    set_go_live(deal, today, desk_user)
    numbers = list(Invoice.objects.values_list("number", flat=True))
    record = set_go_live(deal, today, pipeline_user(), source="product", token_name="crm")
    assert record.go_live_on == today
    assert go_live_events().count() == 1
    assert list(Invoice.objects.values_list("number", flat=True)) == numbers
    with pytest.raises(go_live.GoLiveConflict, match=f"already {today.isoformat()}"):
        set_go_live(deal, today + timedelta(days=1), desk_user)
    assert BillingRecord.objects.get(deal=deal).go_live_on == today
    assert go_live_events().count() == 1


@pytest.mark.parametrize("offset", [-1, 91])
def test_a_date_before_signature_or_too_far_ahead_is_refused(
    waiting_deal, set_go_live, desk_user, offset
):
    deal = waiting_deal()
    record = BillingRecord.objects.get(deal=deal)
    day = (record.signed_on if offset < 0 else timezone.localdate()) + timedelta(days=offset)
    with pytest.raises(go_live.GoLiveInvalid):
        set_go_live(deal, day, desk_user)
    record.refresh_from_db()
    assert (record.go_live_on, record.state) == (None, "pending")
    assert not go_live_events().exists()
    assert not Invoice.objects.filter(deal=deal).exists()


def test_a_deal_not_billed_at_go_live_takes_no_date(signed_deal, set_go_live, desk_user):
    deal = signed_deal()
    with pytest.raises(go_live.GoLiveConflict, match="does not start at go-live"):
        set_go_live(deal, timezone.localdate(), desk_user)
    assert BillingRecord.objects.get(deal=deal).go_live_on is None
    assert not go_live_events().exists()


@pytest.mark.parametrize("role", ["Sales", "Auditor"])
def test_only_deal_desk_and_finance_set_go_live(waiting_deal, set_go_live, make_user, role):
    deal = waiting_deal()
    with pytest.raises(PermissionDenied):
        set_go_live(deal, timezone.localdate(), make_user(role))
    assert BillingRecord.objects.get(deal=deal).go_live_on is None
    assert not go_live_events().exists()


def test_the_go_live_permission_is_its_own_granted_to_deal_desk_and_finance(
    waiting_deal, set_go_live, make_user
):
    from django.contrib.auth.models import Group, Permission

    granted = Group.objects.filter(permissions__codename="set_go_live").values_list(
        "name", flat=True
    )
    assert sorted(granted) == ["Deal Desk", "Finance"]
    # Managing deals is not enough without it; the permission alone is.
    deal = waiting_deal()
    desk = make_user("Deal Desk", username="desk_without_go_live")
    desk.groups.get().permissions.remove(Permission.objects.get(codename="set_go_live"))
    desk = type(desk).objects.get(pk=desk.pk)  # permissions are cached on the instance
    assert desk.has_perm("dealdesk.manage_deal")
    with pytest.raises(PermissionDenied):
        set_go_live(deal, timezone.localdate(), desk)
    assert not go_live_events().exists()
    solo = make_user(username="go_live_only")
    solo.user_permissions.add(Permission.objects.get(codename="set_go_live"))
    solo = type(solo).objects.get(pk=solo.pk)
    assert set_go_live(deal, timezone.localdate(), solo).go_live_on == timezone.localdate()


# --- the deal page ------------------------------------------------------------------------


def test_the_deal_page_waits_for_the_date_and_takes_it(
    waiting_deal, desk_user, django_capture_on_commit_callbacks
):
    deal = waiting_deal()
    client = Client()
    client.force_login(desk_user)
    page = client.get(f"/deals/{deal.pk}/").content.decode()
    assert "Billing starts at go-live: waiting for the date" in page
    assert 'data-testid="go-live-form"' in page
    assert 'data-testid="billing-state">Waiting for go-live date</span>' in page
    assert "Being created" not in page
    today = timezone.localdate().isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/billing/deals/{deal.pk}/go-live/", {"go_live_on": today}, follow=True
        )
    page = response.content.decode()
    assert f"Go-live {today} recorded; billing started." in page
    assert f"Go-live {today}: billing starts from it." in page
    assert "waiting for the date" not in page
    assert 'data-testid="billing-state">In billing</span>' in page
    deal.refresh_from_db()
    assert deal.state == "invoiced"


@pytest.mark.parametrize("value", ["", "06/12/2026", "2026-02-30", "x" * 600])
def test_the_deal_page_refuses_a_bad_date(waiting_deal, desk_user, value):
    deal = waiting_deal()
    client = Client()
    client.force_login(desk_user)
    response = client.post(f"/billing/deals/{deal.pk}/go-live/", {"go_live_on": value}, follow=True)
    assert "Go-live not set" in response.content.decode()
    assert not go_live_events().exists()


def test_sales_sees_no_form_and_cannot_post(waiting_deal, make_user):
    deal = waiting_deal()
    owner = deal.owner
    client = Client()
    client.force_login(owner)
    assert 'data-testid="go-live-form"' not in client.get(f"/deals/{deal.pk}/").content.decode()
    response = client.post(
        f"/billing/deals/{deal.pk}/go-live/", {"go_live_on": timezone.localdate().isoformat()}
    )
    assert response.status_code == 403
    assert not go_live_events().exists()


# --- the product's endpoint ---------------------------------------------------------------


@pytest.fixture
def post_go_live(settings, django_capture_on_commit_callbacks):
    settings.BILLING_GO_LIVE_TOKENS = ["an-older-token-still-valid", TOKEN]

    def post(deal_id, body, *, token=TOKEN):
        # As the product calls: no session, and Django's CSRF check enforced.
        client = Client(enforce_csrf_checks=True)
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                f"/billing/api/deals/{deal_id}/go-live/",
                body if isinstance(body, str) else json.dumps(body),
                content_type="application/json",
                headers=headers,
            )

    return post


def test_the_product_posts_go_live_and_billing_starts(waiting_deal, post_go_live):
    deal = waiting_deal()
    today = timezone.localdate().isoformat()
    response = post_go_live(deal.pk, {"go_live_on": today})
    assert response.status_code == 200
    assert response.json() == {
        "deal_id": deal.pk,
        "go_live_on": today,
        "billing_state": "created",
        "deal_state": "billing",  # the first invoice is issued by the next step, after commit
    }
    deal.refresh_from_db()
    assert deal.state == "invoiced"
    (event,) = go_live_events()
    assert event.actor == pipeline_user()
    # A bare secret (the older form) is named by its place in the list, never shown.
    assert event.data == {"source": "product", "token": "token 2"}
    assert TOKEN not in json.dumps(event.data)
    # Posted again (a retry): 200, nothing new.
    assert post_go_live(deal.pk, {"go_live_on": today}).status_code == 200
    assert go_live_events().count() == 1
    other = (timezone.localdate() + timedelta(days=1)).isoformat()
    conflict = post_go_live(deal.pk, {"go_live_on": other})
    assert conflict.status_code == 409
    assert "already" in conflict.json()["error"]


def test_the_audit_event_names_the_token_the_date_came_with_never_its_secret(
    waiting_deal, post_go_live, settings
):
    settings.BILLING_GO_LIVE_TOKENS = [
        "onboarding-app=a-secret-of-onboarding",
        f"provisioning={TOKEN}",
        "legacyBase64Secret==",  # "=" as padding only: a bare secret
    ]
    deal = waiting_deal()
    response = post_go_live(deal.pk, {"go_live_on": timezone.localdate().isoformat()})
    assert response.status_code == 200
    (event,) = go_live_events()
    assert event.data == {"source": "product", "token": "provisioning"}
    assert TOKEN not in json.dumps([event.data, event.before, event.after, event.reason])
    # The name is no token itself; the padded bare secret is, whole (so past the token, it
    # is the unknown deal that is refused).
    named = post_go_live(deal.pk, {"go_live_on": "2020-01-01"}, token="provisioning")
    assert named.status_code == 401
    padded = post_go_live(0, {"go_live_on": "2020-01-01"}, token="legacyBase64Secret==")
    assert padded.status_code == 404


def test_configured_tokens_read_both_forms():
    from django.test import override_settings

    from billing.api_views import go_live_tokens

    with override_settings(
        BILLING_GO_LIVE_TOKENS=["crm=s3cret=x", "bare-secret", " ", "abc==", "bad name=zz", "n="]
    ):
        assert go_live_tokens() == [
            ("crm", "s3cret=x"),
            ("token 2", "bare-secret"),
            ("token 4", "abc=="),
            ("token 5", "bad name=zz"),
            ("token 6", "n="),
        ]


@pytest.mark.parametrize(
    "token", [None, "", "wrong-token", TOKEN[:-1], TOKEN + "x", "tökén", f"{TOKEN} extra"]
)
def test_the_endpoint_refuses_without_a_valid_token(waiting_deal, post_go_live, token):
    deal = waiting_deal()
    response = post_go_live(deal.pk, {"go_live_on": timezone.localdate().isoformat()}, token=token)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not go_live_events().exists()


def test_the_endpoint_refuses_everything_when_no_token_is_configured(
    waiting_deal, post_go_live, settings
):
    deal = waiting_deal()
    settings.BILLING_GO_LIVE_TOKENS = []
    response = post_go_live(deal.pk, {"go_live_on": timezone.localdate().isoformat()}, token="")
    assert response.status_code == 401
    settings.BILLING_GO_LIVE_TOKENS = [""]  # a blank entry is no token
    response = post_go_live(deal.pk, {"go_live_on": timezone.localdate().isoformat()}, token="")
    assert response.status_code == 401
    assert not go_live_events().exists()


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        "{}",
        {"go_live_on": None},
        {"go_live_on": 20261206},
        {"go_live_on": "20261206"},
        {"go_live_on": "2026-02-30"},
        {"go_live_on": "2026-12-06T00:00:00"},
        {"go_live_on": "٢٠٢٦-١٢-٠٦"},  # Arabic-Indic digits: \\d would take them
    ],
)
def test_the_endpoint_answers_400_to_a_bad_body(waiting_deal, post_go_live, body):
    deal = waiting_deal()
    assert post_go_live(deal.pk, body).status_code == 400
    assert not go_live_events().exists()


def test_the_endpoint_answers_400_to_a_date_before_signature(waiting_deal, post_go_live):
    deal = waiting_deal()
    before = BillingRecord.objects.get(deal=deal).signed_on - timedelta(days=1)
    response = post_go_live(deal.pk, {"go_live_on": before.isoformat()})
    assert response.status_code == 400
    assert "before the signature" in response.json()["error"]


def test_the_endpoint_answers_404_for_an_unknown_deal_and_405_to_get(db, post_go_live):
    assert post_go_live(999999, {"go_live_on": timezone.localdate().isoformat()}).status_code == 404
    client = Client()
    response = client.get(
        "/billing/api/deals/1/go-live/", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 405


def test_with_the_review_on_the_go_live_first_invoice_waits_for_finance(
    waiting_deal, set_go_live, desk_user, settings
):
    settings.BILLING_FIRST_INVOICE_REVIEW = True
    deal = waiting_deal()
    set_go_live(deal, timezone.localdate(), desk_user)
    deal.refresh_from_db()
    assert deal.state == "billing"
    assert Invoice.objects.get(deal=deal, plan_index=1).state == "draft"


def test_a_go_live_that_meets_a_billing_exception_is_kept_for_finances_retry(
    waiting_deal, set_go_live, desk_user, make_user, django_capture_on_commit_callbacks
):
    from dealdesk.models import Product

    deal = waiting_deal()
    Product.objects.filter(sku="SEAT-STD").update(kind="")  # the catalog loses its set-up
    record = set_go_live(deal, timezone.localdate(), desk_user)
    assert (record.state, record.go_live_on) == ("exception", timezone.localdate())
    assert not Invoice.objects.filter(deal=deal).exists()
    Product.objects.filter(sku="SEAT-STD").update(kind="subscription")
    with django_capture_on_commit_callbacks(execute=True):
        record = services.billing_retry(deal_id=deal.pk, actor=make_user("Finance"))
    deal.refresh_from_db()
    assert record.state == "created"
    assert deal.state == "invoiced"
    assert Invoice.objects.get(deal=deal, plan_index=1).issue_on == timezone.localdate()
