"""Finance's billing pages: the tab bar and the Billing menu item, billing exceptions side by
side, invoices with their filters and aging buckets, dead letters with Retry, the deal page's
Billing card, and the invoice PDF refused (and audited) when it is not what was sent.

Who sees what (billing/finance_views.py): Finance and Auditors every page, Deal Desk the
exceptions and invoices read-only, Bill again and the dead letters Finance only."""

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from billing import finance_views, selectors
from billing.models import ARItem, BillingRecord, Invoice, Payment, PaymentAllocation
from contracts.models import ContractTemplate, ContractVersion
from dealdesk.integrations.models import OutboxMessage, WebhookEvent
from dealdesk.roles import navigation_for
from dealdesk.services import pipeline_user
from tests.dealdesk.factories import AccountFactory, DealFactory

TODAY = date(2026, 6, 30)


@pytest.fixture
def fixed_today(monkeypatch):
    monkeypatch.setattr(finance_views, "_today", lambda: TODAY)
    return TODAY


def _invoice(
    record, *, n, due_on, total="100", paid="0", currency="USD", state="issued", deal=None
):
    """An invoice of `record` straight in the database (the pipeline makes the first one)."""
    return Invoice.objects.create(
        record=record,
        deal=deal or record.deal,
        plan_index=100 + n,
        state=state,
        legal_entity="DD",
        number=f"T-{n:04d}",
        currency=currency,
        period_start=due_on,
        period_last_day=due_on,
        issue_on=due_on - timedelta(days=30),
        due_on=due_on,
        payment_terms=30,
        total=Decimal(total),
        amount_paid=Decimal(paid),
    )


_crm_ids = itertools.count(1)


def _deal(**fields):
    return DealFactory(crm_id=f"006SCREENS{next(_crm_ids):05d}", **fields)


def _record(deal=None, *, state="created"):
    """A billing record straight in the database, without the pipeline's 30 seconds."""
    deal = deal or _deal()
    version = ContractVersion.objects.create(
        deal=deal,
        number=1,
        state="executed",
        template=ContractTemplate.objects.first(),
        snapshot={},
        content_hash="0" * 64,
        docx_sha256="0" * 64,
        pdf_sha256="0" * 64,
        created_by=deal.owner,
        made_by="test",
    )
    return BillingRecord.objects.create(
        deal=deal,
        version=version,
        backend="local",
        state=state,
        signed_on=TODAY - timedelta(days=90),
    )


@pytest.fixture
def billed(db):
    return _record()


# --- aging ------------------------------------------------------------------------------------


def test_aging_buckets_are_days_past_due_summed_per_currency(billed, make_user):
    days_late = {1: 0, 2: 1, 3: 30, 4: 31, 5: 60, 6: 61, 7: 90, 8: 91, 9: 400}
    for n, late in days_late.items():
        _invoice(billed, n=n, due_on=TODAY - timedelta(days=late), total=str(n))
    _invoice(billed, n=10, due_on=TODAY + timedelta(days=5), total="1000", paid="999.5")
    _invoice(billed, n=11, due_on=TODAY - timedelta(days=45), total="7", currency="EUR")
    # Nothing due: fully paid, void, or paid off by credits.
    _invoice(billed, n=12, due_on=TODAY - timedelta(days=45), total="50", paid="50")
    _invoice(billed, n=13, due_on=TODAY - timedelta(days=45), total="50", state="void")
    summary = selectors.aging_summary(user=make_user("Finance"), today=TODAY)
    assert summary == [
        {
            "currency": "EUR",
            "buckets": [
                ("current", 0),
                ("0-30", 0),
                ("31-60", Decimal("7")),
                ("61-90", 0),
                ("90+", 0),
            ],
            "total": Decimal("7"),
        },
        {
            "currency": "USD",
            "buckets": [
                ("current", Decimal("1.5")),  # due today (1) and in five days (0.5 left)
                ("0-30", Decimal("5")),  # 1 and 30 days late
                ("31-60", Decimal("9")),
                ("61-90", Decimal("13")),
                ("90+", Decimal("17")),
            ],
            "total": Decimal("45.5"),
        },
    ]


# --- invoices page ---------------------------------------------------------------------------


def _numbers(response) -> set[str]:
    return {invoice.number for invoice in response.context["page"]}


def test_the_invoice_filters_and_a_bucket_list_what_they_say(
    billed, client, make_user, fixed_today
):
    other = _deal(account=AccountFactory(name="Zeta Industries"), name="Zeta renewal")
    _invoice(billed, n=1, due_on=TODAY - timedelta(days=10))  # 0-30, overdue
    _invoice(billed, n=2, due_on=TODAY + timedelta(days=10))  # current
    _invoice(billed, n=3, due_on=TODAY - timedelta(days=70), deal=other)  # 61-90
    _invoice(billed, n=4, due_on=TODAY - timedelta(days=70), currency="EUR")  # 61-90 EUR
    _invoice(billed, n=5, due_on=TODAY - timedelta(days=70), paid="100")  # nothing due
    client.force_login(make_user("Finance"))
    url = reverse("billing:invoices")
    everything = _numbers(client.get(url))
    assert {"T-0001", "T-0002", "T-0003", "T-0004", "T-0005"} <= everything
    assert _numbers(client.get(url, {"overdue": "on"})) == {"T-0001", "T-0003", "T-0004"}
    assert _numbers(client.get(url, {"bucket": "61-90"})) == {"T-0003", "T-0004"}
    assert _numbers(client.get(url, {"bucket": "61-90", "currency": "EUR"})) == {"T-0004"}
    assert _numbers(client.get(url, {"customer": "zeta"})) == {"T-0003"}
    assert _numbers(client.get(url, {"customer": "T-0002"})) == {"T-0002"}
    assert "T-0005" in _numbers(client.get(url, {"state": "issued"}))
    issued_from = (TODAY - timedelta(days=60)).isoformat()
    assert _numbers(client.get(url, {"issued_from": issued_from, "state": "issued"})) == {
        "T-0001",
        "T-0002",
    }
    # A bucket link keeps the other filters and replaces bucket and currency.
    page = client.get(url, {"customer": "zeta", "bucket": "0-30"}).content.decode()
    assert 'href="?customer=zeta&amp;bucket=61-90&amp;currency=USD"' in page
    # Hostile input lists nothing and says why, never a 500 nor everything.
    refused = client.get(url, {"bucket": "1000+", "issued_from": "yesterday"})
    assert refused.status_code == 200
    assert _numbers(refused) == set()
    assert 'data-testid="filter-errors"' in refused.content.decode()


def test_first_invoices_held_for_release_are_found_from_the_invoice_list(
    billed, client, make_user, fixed_today, settings
):
    settings.BILLING_FIRST_INVOICE_REVIEW = True
    held = _invoice(billed, n=1, due_on=TODAY, state="draft")
    Invoice.objects.filter(pk=held.pk).update(plan_index=1, number=None)
    _invoice(billed, n=2, due_on=TODAY)
    client.force_login(make_user("Finance"))
    url = reverse("billing:invoices")
    page = client.get(url).content.decode()
    assert 'data-testid="awaiting-release"' in page
    assert "1 first invoice awaiting release" in page
    assert _numbers(client.get(url)) == {"T-0002"}  # a draft is not an invoice yet
    response = client.get(url, {"state": "awaiting_release"})
    assert [invoice.pk for invoice in response.context["page"]] == [held.pk]
    assert reverse("deal-detail", args=[billed.deal_id]) in response.content.decode()
    settings.BILLING_FIRST_INVOICE_REVIEW = False
    assert 'data-testid="awaiting-release"' not in client.get(url).content.decode()


def test_the_invoice_list_and_its_aging_take_a_fixed_number_of_queries(
    billed, client, make_user, fixed_today, django_assert_max_num_queries
):
    client.force_login(make_user("Finance"))
    for n in range(1, 4):
        _invoice(billed, n=n, due_on=TODAY - timedelta(days=20 * n))
    with django_assert_max_num_queries(17) as few:  # the 17th: the page's credit notes
        client.get(reverse("billing:invoices"))
    for n in range(4, 40):
        deal = _deal()
        _invoice(billed, n=n, due_on=TODAY - timedelta(days=3 * n), deal=deal)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("billing:invoices"))
    assert len(response.context["page"]) == 39


def test_the_invoice_csv_has_every_listed_invoice_and_no_formula(
    billed, client, make_user, fixed_today
):
    deal = _deal(account=AccountFactory(name="=HYPERLINK(evil)"))
    _invoice(billed, n=1, due_on=TODAY - timedelta(days=3), deal=deal, total="12.5")
    client.force_login(make_user("Finance"))
    response = client.get(reverse("billing:invoices"), {"customer": "hyperlink", "format": "csv"})
    text = b"".join(response.streaming_content).decode()
    lines = text.strip().splitlines()
    assert lines[0].lstrip("\ufeff").startswith("number,customer,deal")
    assert len(lines) == 2
    assert "T-0001,'=HYPERLINK(evil)" in lines[1]
    assert lines[1].endswith(",USD,12.500,12.500,issued")


# --- exceptions --------------------------------------------------------------------------------


DIFF = [
    {"path": "lines[0].quantity", "expected": "10", "actual": "12", "kind": "changed"},
    {"path": "po_number", "expected": "PO-7", "actual": None, "kind": "missing"},
]


def _stop(record, *, problems=(), diff=()):
    BillingRecord.objects.filter(pk=record.pk).update(
        state="exception", problems=list(problems), diff=list(diff), checked_at=timezone.now()
    )


def test_an_exception_is_listed_and_shows_the_contract_and_billing_side_by_side(
    billed, client, make_user, django_assert_max_num_queries
):
    _stop(billed, problems=["The billing e-mail is missing."], diff=DIFF)
    for _ in range(5):  # the list's queries do not grow with it
        _stop(_record(), problems=["The address is incomplete."])
    client.force_login(make_user("Finance"))
    # session, user, permissions, notifications, groups, the tab counts, the page
    with django_assert_max_num_queries(16):
        listing = client.get(reverse("billing:exceptions")).content.decode()
    assert billed.deal.name in listing
    assert "The billing e-mail is missing." in listing
    assert "2 differences" in listing
    detail = client.get(reverse("billing:exception", args=[billed.pk])).content.decode()
    assert 'data-testid="exception-diff"' in detail
    assert "lines[0].quantity" in detail
    assert "PO-7" in detail
    assert "missing in the billing system" in detail
    assert 'data-testid="billing-retry"' in detail
    # Deal Desk reads it, but billing again is Finance's.
    client.force_login(make_user("Deal Desk"))
    detail = client.get(reverse("billing:exception", args=[billed.pk])).content.decode()
    assert "lines[0].quantity" in detail
    assert 'data-testid="billing-retry"' not in detail


def test_no_exception_says_so(billed, client, make_user):
    client.force_login(make_user("Finance"))
    assert (
        'data-testid="no-exceptions"' in client.get(reverse("billing:exceptions")).content.decode()
    )


# --- permissions and navigation ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "reads", "dead_letters"),
    [
        ("Finance", 200, 200),
        ("Auditor", 200, 403),
        ("Deal Desk", 200, 403),
        ("Legal", 403, 403),
        ("Sales", 403, 403),
    ],
)
def test_who_opens_which_billing_page(client, make_user, role, reads, dead_letters):
    user = make_user(role)
    client.force_login(user)
    for name in ("billing:exceptions", "billing:invoices"):
        assert client.get(reverse(name)).status_code == reads, name
    assert client.get(reverse("billing:dead-letters")).status_code == dead_letters
    home = client.get(reverse("billing:home"))
    assert home.status_code == (302 if reads == 200 else 403)
    assert (("Billing", reverse("billing:home")) in navigation_for(user)) == (reads == 200)


def _tab_bar(html: str) -> str:
    start = html.index('data-testid="finance-tabs"')
    return html[start : html.index("</ul>", start)]


def test_the_tab_bar_counts_work_waiting_and_opens_the_pages_tab(billed, client, make_user):
    _stop(billed, problems=["x"])
    OutboxMessage.objects.create(task="billing.tasks.billing_start", args=[1], status="dead")
    OutboxMessage.objects.create(task="approvals.tasks.x", args=[1], status="dead")  # not ours
    client.force_login(make_user("Finance"))
    tabs = _tab_bar(client.get(reverse("billing:exception", args=[billed.pk])).content.decode())
    assert (
        'class="nav-link active" href="/billing/exceptions/" data-testid="tab-exceptions"' in tabs
    )
    assert 'data-testid="tab-exceptions" aria-current="page">Exceptions <span' in tabs
    assert selectors.finance_tab_counts()["dead_letters"] == 1
    for tab in ("invoices", "payments", "imports", "ar", "dead-letters"):
        assert f'data-testid="tab-{tab}"' in tabs
    tabs = _tab_bar(client.get(reverse("billing:payments")).content.decode())
    assert 'data-testid="tab-payments" aria-current="page"' in tabs
    # Deal Desk reads exceptions and invoices only: no tab to a page it may not open.
    client.force_login(make_user("Deal Desk"))
    tabs = _tab_bar(client.get(reverse("billing:exceptions")).content.decode())
    assert 'data-testid="tab-invoices"' in tabs
    for tab in ("payments", "imports", "ar", "dead-letters"):
        assert f'data-testid="tab-{tab}"' not in tabs


def test_every_finance_page_name_resolves():
    """The tab bar leaves out a page whose URL is missing; the pages the other helpers write
    must all be there once issue 15 is done."""
    for name in ("home", "exceptions", "invoices", "payments", "imports", "ar", "dead-letters"):
        assert reverse(f"billing:{name}")
    assert reverse("billing:ar-item", args=[1])


# --- dead letters ----------------------------------------------------------------------------


@pytest.fixture
def dead_letters(db):
    return {
        "step": OutboxMessage.objects.create(
            task="billing.tasks.invoice_deliver",
            args=[7],
            status="dead",
            attempts=8,
            last_error="SMTP said no",
        ),
        "event": WebhookEvent.objects.create(
            vendor="stripe",
            event_id="evt_1",
            type="invoice.paid",
            payload={},
            status="dead",
            attempts=3,
            handler_error="invoice in_9 is unknown",
        ),
        "other": OutboxMessage.objects.create(
            task="approvals.tasks.notify_request_created", args=[1], status="dead"
        ),
    }


def test_finance_sees_billings_dead_letters_and_retries_them_audited(
    dead_letters,
    client,
    make_user,
    django_assert_max_num_queries,
    django_capture_on_commit_callbacks,
):
    for n in range(5):  # the page's queries do not grow with it
        OutboxMessage.objects.create(task="billing.tasks.billing_start", args=[n], status="dead")
    client.force_login(make_user("Finance"))
    with django_assert_max_num_queries(16):
        page = client.get(reverse("billing:dead-letters")).content.decode()
    assert "SMTP said no" in page
    assert "invoice in_9 is unknown" in page
    assert "notify_request_created" not in page
    for kind in ("step", "event"):
        row = dead_letters[kind]
        with django_capture_on_commit_callbacks(execute=False) as relayed:
            response = client.post(reverse("billing:dead-letter-retry", args=[kind, row.pk]))
        assert response.status_code == 302
        assert len(relayed) == 1
        row.refresh_from_db()
        assert (row.status, row.attempts) == ("pending", 0)
    assert set(
        AuditEvent.objects.filter(action__endswith=".retried").values_list("action", flat=True)
    ) == {"outbox_message.retried", "webhook_event.retried"}


def test_only_finance_retries_and_only_billings_dead_letters(dead_letters, client, make_user):
    step, other = dead_letters["step"], dead_letters["other"]
    client.force_login(make_user("Deal Desk"))
    assert (
        client.post(reverse("billing:dead-letter-retry", args=["step", step.pk])).status_code == 403
    )
    client.force_login(make_user("Finance"))
    client.post(reverse("billing:dead-letter-retry", args=["step", other.pk]))
    assert (
        client.post(reverse("billing:dead-letter-retry", args=["nope", step.pk])).status_code == 404
    )
    assert (
        client.get(reverse("billing:dead-letter-retry", args=["step", step.pk])).status_code == 405
    )
    step.refresh_from_db()
    other.refresh_from_db()
    assert (step.status, other.status) == ("dead", "dead")
    assert not AuditEvent.objects.filter(action__endswith=".retried").exists()


# --- the deal page's Billing card ---------------------------------------------------------------


def _pay(invoice, amount, n):
    payment = Payment.objects.create(
        source="bank",
        external_id=f"e{n}",
        received_on=TODAY,
        amount=amount,
        currency=invoice.currency,
        payer_name=f"Payer {n}",
        state="applied",
        amount_applied=amount,
    )
    PaymentAllocation.objects.create(
        payment=payment, invoice=invoice, amount=amount, how="matched", allocated_by=pipeline_user()
    )
    return payment


def test_the_deal_card_shows_payments_ar_items_and_days_to_pay_in_bounded_queries(
    billed, client, make_user, django_assert_max_num_queries
):
    record = billed
    invoice = _invoice(record, n=1, due_on=TODAY)
    client.force_login(make_user("Deal Desk"))
    url = reverse("deal-detail", args=[invoice.deal_id])
    _pay(invoice, Decimal("1"), 1)
    with django_assert_max_num_queries(200) as few:
        client.get(url)
    for n in range(2, 8):
        _pay(invoice, Decimal("1"), n)
        ARItem.objects.create(
            key=f"k{n}",
            reason="partial",
            amount=Decimal(n),
            currency=invoice.currency,
            detail="part",
            deal=invoice.deal,
            invoice=invoice,
        )
    BillingRecord.objects.filter(pk=record.pk).update(
        first_paid_on=record.signed_on + timedelta(days=12), days_to_first_payment=12
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url).content.decode()
    assert 'data-testid="billing-payments"' in page
    assert "Payer 7" in page
    assert 'data-testid="billing-ar-items"' in page
    assert "Partial payment" in page
    assert "12 days after signature" in page


def test_the_deal_card_links_an_exception_to_its_page(billed, client, make_user):
    _stop(billed, diff=DIFF)
    client.force_login(make_user("Finance"))
    page = client.get(reverse("deal-detail", args=[billed.deal_id])).content.decode()
    assert reverse("billing:exception", args=[billed.pk]) in page
    assert "2 differences" in page


# --- the invoice PDF ---------------------------------------------------------------------------


def test_an_altered_invoice_pdf_is_refused_and_each_attempt_audited(
    issued_invoice, client, make_user
):
    invoice = issued_invoice()
    client.force_login(make_user("Finance"))
    url = reverse("billing:invoice-pdf", args=[invoice.pk])
    assert b"".join(client.get(url).streaming_content) == invoice.pdf.read()
    assert not AuditEvent.objects.filter(action="invoice.file_tampered").exists()
    with open(invoice.pdf.path, "ab") as handle:
        handle.write(b"%% appended later")
    for attempt in (1, 2):
        response = client.get(url)
        assert response.status_code == 409
        assert b"not the one that was sent" in response.content
        assert (
            AuditEvent.objects.filter(
                action="invoice.file_tampered", object_id=str(invoice.pk)
            ).count()
            == attempt
        )
