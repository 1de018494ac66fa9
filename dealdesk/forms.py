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


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class ResumeForm(ReasonForm):
    pattern = forms.ModelChoiceField(
        queryset=DealPattern.objects.all(), to_field_name="code", empty_label=None
    )
