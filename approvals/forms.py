from django import forms
from django.contrib.auth import get_user_model

from approvals.selectors import QUEUE_SORTS
from approvals.services import MAX_BATCH
from dealdesk.forms import reason_field


class QueueFilterForm(forms.Form):
    """My approvals' filters, from the query string; a field that does not validate (a group
    the user does not act for, a TCV that is not a number) is dropped, the others apply."""

    group = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    q = forms.CharField(required=False, label="Search", max_length=100)
    min_tcv = forms.DecimalField(required=False, min_value=0, max_digits=16, decimal_places=2)
    sort = forms.ChoiceField(
        required=False,
        choices=[(k, k) for key in QUEUE_SORTS for k in (key, f"-{key}")],
    )

    def __init__(self, *args, groups: dict[int, str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [("", "All my groups"), *groups.items()]

    def filters(self) -> dict:
        """The fields that validated, empty ones left out."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value not in ("", None)}


QUEUE_PAGE, DEAL_PAGE = "queue", "deal"


class DecisionForm(forms.Form):
    """A decision as posted: approve or reject, nothing else (a typo is not a rejection)."""

    decision = forms.ChoiceField(
        choices=[("approve", "Approve"), ("reject", "Reject")],
        error_messages={
            "required": "Choose approve or reject.",
            "invalid_choice": "Choose approve or reject: nothing else is a decision.",
        },
    )
    # Required to reject; the service says so, with the request's state checked first.
    reason = reason_field(required=False)
    # Which page decided in place, so the answer also refreshes that page's counts and badges.
    shown_on = forms.ChoiceField(
        required=False, choices=[("", ""), (QUEUE_PAGE, QUEUE_PAGE), (DEAL_PAGE, DEAL_PAGE)]
    )


class RequestIdsField(forms.Field):
    """Request ids ticked on a list (?ids=1&ids=2): whole numbers, at most `max_count`."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": "Tick the requests to approve.",
        "invalid": "Those are not request ids.",
        "too_many": "Approve at most %(max)d requests at once.",
    }

    def __init__(self, *, max_count: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.max_count = max_count

    def to_python(self, value) -> list[int]:
        try:
            ids = [int(v) for v in value or ()]
        except (TypeError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if any(pk <= 0 for pk in ids):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if len(ids) > self.max_count:
            raise forms.ValidationError(
                self.error_messages["too_many"], code="too_many", params={"max": self.max_count}
            )
        return list(dict.fromkeys(ids))


class BatchApproveForm(forms.Form):
    """My approvals' "Approve selected": the ticked requests and one reason for all."""

    ids = RequestIdsField(max_count=MAX_BATCH)
    reason = reason_field(required=False)


class DelegationForm(forms.Form):
    """My approvals: hand one of my groups' authority to someone while I am away."""

    delegate = forms.ModelChoiceField(queryset=None)
    group = forms.ModelChoiceField(queryset=None, empty_label=None)
    starts_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ends_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    reason = reason_field(required=False)

    def __init__(self, *args, delegator, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = delegator.groups.order_by("name")
        self.fields["delegate"].queryset = (
            get_user_model()
            .objects.filter(is_active=True, groups__isnull=False)
            .exclude(pk=delegator.pk)
            .distinct()
            .order_by("username")
        )
