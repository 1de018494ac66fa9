from django import forms

from approvals.selectors import QUEUE_SORTS


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
