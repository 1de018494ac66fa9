from django import forms

from dealdesk.models import DealPattern, DealState
from dealdesk.selectors import DEAL_SORTS


class DealFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", max_length=100)
    state = forms.ChoiceField(required=False, choices=[("", "Any state"), *DealState.choices])
    pattern = forms.ChoiceField(required=False)
    owner = forms.ChoiceField(required=False)
    sort = forms.ChoiceField(
        required=False,
        choices=[(k, k) for key in DEAL_SORTS for k in (key, f"-{key}")],
    )

    def __init__(self, *args, owners: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pattern"].choices = [
            ("", "Any pattern"),
            *DealPattern.objects.values_list("code", "name"),
        ]
        self.fields["owner"].choices = [("", "Any owner"), *((u, u) for u in owners)]


# One limit for every reason a person types (deal actions, legal review, approvals, CRM
# drift): long enough for a real explanation, short enough for a history row and a page.
REASON_MAX_LENGTH = 2000
REASON_REQUIRED = "Say why: a reason is required."
REASON_TOO_LONG = f"Say why in at most {REASON_MAX_LENGTH:,} characters."


def reason_field(*, required: bool = True) -> forms.CharField:
    """The reason input of every form that asks why, with its one limit and messages."""
    return forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=REASON_MAX_LENGTH,
        required=required,
        error_messages={"required": REASON_REQUIRED, "max_length": REASON_TOO_LONG},
    )


def first_error(form: forms.Form) -> str:
    """The form's first message, for a page that answers with one line."""
    return next(iter(form.errors.values()))[0]


class ReasonForm(forms.Form):
    reason = reason_field()


class OptionalReasonForm(forms.Form):
    """Where a reason may be left out (an approval note), but not run past the limit."""

    reason = reason_field(required=False)


class ResumeForm(ReasonForm):
    pattern = forms.ModelChoiceField(
        queryset=DealPattern.objects.all(), to_field_name="code", empty_label=None
    )
