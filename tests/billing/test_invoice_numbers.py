"""Invoice numbers: one gapless sequence per legal entity and year, even when two invoices are
issued at the same moment (PostgreSQL: the sequence row is locked while a number is taken)."""

from datetime import date
from functools import partial

import pytest

from billing.models import Invoice
from billing.services import invoice_issue
from dealdesk.services import pipeline_user
from tests.concurrency import at_once, raised


def _draft_copy(invoice: Invoice, plan_index: int) -> Invoice:
    copy = Invoice.objects.get(pk=invoice.pk)
    copy.pk = None
    copy.plan_index, copy.number = plan_index, None
    copy.save()
    Invoice.objects.filter(pk=copy.pk).update(state="draft", issued_at=None)
    return Invoice.objects.get(pk=copy.pk)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_invoices_issued_at_once_take_consecutive_numbers(signed_deal):
    deal = signed_deal()
    first = Invoice.objects.get(deal=deal, state="issued")
    drafts = [_draft_copy(first, plan_index=90 + n) for n in range(6)]
    bot = pipeline_user()
    issues = (
        partial(invoice_issue, invoice_id=draft.pk, actor=bot, today=date(2099, 1, 1))
        for draft in drafts
    )
    assert raised(at_once(*issues)) == []

    year = first.issue_on.year
    numbers = sorted(
        Invoice.objects.filter(deal=deal, number__startswith=f"DD-{year}-").values_list(
            "number", flat=True
        )
    )
    assert numbers == [f"DD-{year}-{n:06d}" for n in range(1, 8)]
