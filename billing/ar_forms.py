"""The AR queue's filter and the AR item's action forms. They check shape and size only; the
services in billing/receivables.py check the amounts against the item, invoice and payment."""

from django import forms

from billing.ar_selectors import AGE_BUCKETS, STATE_FILTERS, WAITING, QueueFilters
from billing.models import ARReason
from dealdesk.forms import reason_field
from dealdesk.models import AMOUNT, Currency

_AMOUNT_ERRORS = {
    "required": "Give an amount.",
    "invalid": "Give the amount as a number, such as 1250.00.",
}


def amount_field(**extra) -> forms.DecimalField:
    return forms.DecimalField(**AMOUNT, error_messages=_AMOUNT_ERRORS, **extra)


class QueueFilterForm(forms.Form):
    reason = forms.ChoiceField(choices=[("", "Any reason"), *ARReason.choices], required=False)
    state = forms.ChoiceField(choices=list(STATE_FILTERS.items()), required=False)
    currency = forms.ChoiceField(choices=[("", "Any currency"), *Currency.choices], required=False)
    age = forms.ChoiceField(choices=[("", "Any age"), *AGE_BUCKETS.items()], required=False)

    def filters(self) -> QueueFilters:
        """What to list: a refused value (a hand-edited URL) falls back to the default."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return QueueFilters(
            reason=data.get("reason", ""),
            state=data.get("state") or WAITING,
            currency=data.get("currency", ""),
            age=data.get("age", ""),
        )


class AllocateForm(forms.Form):
    invoice = forms.CharField(
        max_length=40, error_messages={"required": "Name the invoice to allocate to."}
    )
    amount = amount_field()
    note = reason_field(required=False)


class AmountReasonForm(forms.Form):
    """A write-off or a credit note: how much, and why (required, it goes in the audit)."""

    amount = amount_field()
    reason = reason_field()


class RefundForm(AmountReasonForm):
    reference = forms.CharField(
        max_length=100,
        error_messages={"required": "Type the bank reference of the refund you sent."},
    )


class ToleranceForm(forms.Form):
    currency = forms.ChoiceField(choices=Currency.choices)
    amount = amount_field()
