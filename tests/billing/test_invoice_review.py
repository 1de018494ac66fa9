"""The optional review of a deal's first invoice (BILLING_FIRST_INVOICE_REVIEW): held as a
draft until Finance releases it; later invoices are never held."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from billing import services
from billing.invoice_review import invoices_awaiting_release
from billing.models import Invoice
from dealdesk.services import pipeline_user


@pytest.fixture
def review_on(settings):
    settings.BILLING_FIRST_INVOICE_REVIEW = True


@pytest.fixture
def release(django_capture_on_commit_callbacks):
    def run(invoice, actor):
        with django_capture_on_commit_callbacks(execute=True):
            return services.invoice_release(invoice_id=invoice.pk, actor=actor)

    return run


def first_invoice(deal):
    return Invoice.objects.get(deal=deal, plan_index=1)


def test_the_first_invoice_waits_for_finance(review_on, signed_deal):
    deal = signed_deal()
    first = first_invoice(deal)
    assert deal.state == "billing"
    assert (first.state, first.number) == ("draft", None)
    assert first.issue_on == timezone.localdate()
    assert list(invoices_awaiting_release()) == [first]
    assert list(invoices_awaiting_release(Invoice.objects.filter(deal=deal))) == [first]
    # The daily beat passes it by.
    assert services.invoices_issue_due(actor=pipeline_user()) == 0
    assert first_invoice(deal).state == "draft"
    assert not [m for m in mail.outbox if m.subject.startswith("Invoice ")]
    assert not AuditEvent.objects.filter(action="invoice.issued").exists()


def test_finance_releases_it_and_it_is_issued_as_usual(review_on, signed_deal, make_user, release):
    deal = signed_deal()
    finance = make_user("Finance")
    invoice = release(first_invoice(deal), finance)
    deal.refresh_from_db()
    year = timezone.localdate().year
    assert (invoice.state, invoice.number) == ("issued", f"DD-{year}-000001")
    assert deal.state == "invoiced"
    assert not invoices_awaiting_release().exists()
    (released,) = AuditEvent.objects.filter(action="invoice.released")
    assert released.actor == finance
    issued = AuditEvent.objects.get(action="invoice.issued")
    assert issued.actor == finance
    assert issued.seq > released.seq
    assert [m for m in mail.outbox if invoice.number in m.subject], "drawn and mailed as usual"
    with pytest.raises(services.InvoiceNotHeld):  # released once
        release(invoice, finance)
    assert AuditEvent.objects.filter(action="invoice.released").count() == 1


def test_later_invoices_are_not_held(review_on, signed_deal, make_user, release):
    deal = signed_deal()
    release(first_invoice(deal), make_user("Finance"))
    second = Invoice.objects.get(deal=deal, plan_index=2)
    with pytest.raises(services.InvoiceNotHeld):
        release(second, make_user("Finance"))
    assert services.invoices_issue_due(actor=pipeline_user(), today=second.issue_on) == 1
    assert Invoice.objects.get(pk=second.pk).state == "issued"


@pytest.mark.parametrize("role", ["Deal Desk", "Sales", "Auditor"])
def test_only_finance_releases(review_on, signed_deal, make_user, release, role):
    deal = signed_deal()
    with pytest.raises(PermissionDenied):
        release(first_invoice(deal), make_user(role))
    assert first_invoice(deal).state == "draft"
    assert not AuditEvent.objects.filter(action="invoice.released").exists()


def test_without_the_setting_nothing_is_held(signed_deal):
    deal = signed_deal()
    assert deal.state == "invoiced"
    assert first_invoice(deal).state == "issued"
    assert not invoices_awaiting_release().exists()


def test_the_deal_page_shows_the_held_invoice_and_finance_releases_it(
    review_on, signed_deal, make_user, desk_user, django_capture_on_commit_callbacks
):
    deal = signed_deal()
    invoice = first_invoice(deal)
    desk = Client()
    desk.force_login(desk_user)
    page = desk.get(f"/deals/{deal.pk}/").content.decode()
    assert "First invoice awaiting Finance release" in page
    assert 'data-testid="invoice-release"' not in page  # Deal Desk sees it, cannot release
    assert desk.post(f"/billing/invoices/{invoice.pk}/release/").status_code == 403

    finance = Client()
    finance.force_login(make_user("Finance"))
    assert 'data-testid="invoice-release"' in finance.get(f"/deals/{deal.pk}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = finance.post(f"/billing/invoices/{invoice.pk}/release/", follow=True)
    invoice.refresh_from_db()
    page = response.content.decode()
    assert f"Invoice {invoice.number} released and issued." in page
    assert "awaiting Finance release" not in page
    again = finance.post(f"/billing/invoices/{invoice.pk}/release/", follow=True)
    assert "Not released" in again.content.decode()


def test_the_held_invoice_costs_the_deal_page_one_query(
    settings, signed_deal, desk_user, django_assert_num_queries
):
    """The review's part of the Billing card: one query while it is on, none while off."""
    from django.template import Context, Template
    from django.test import RequestFactory

    from billing.models import BillingRecord

    deal = signed_deal()
    record = BillingRecord.objects.get(deal=deal)
    request = RequestFactory().get("/")
    request.user = desk_user
    desk_user.has_perm("billing.manage_billing")  # the permission cache, filled up front
    template = Template("{% load billing_go_live %}{% go_live_and_review deal record %}")

    def render():
        context = Context({"deal": deal, "record": record})
        context.request = request
        return template.render(context)

    with django_assert_num_queries(0):
        render()
    settings.BILLING_FIRST_INVOICE_REVIEW = True
    with django_assert_num_queries(1):
        render()
