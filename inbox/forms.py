"""The inbox's filters and its small POST forms. Every value is checked against what the
person may see; anything else is dropped (filters) or refused (actions)."""

from django import forms

from inbox.selectors import MINE, UNASSIGNED, InboxFilters
from inbox.sources import Source

WHO_CHOICES = [("", "Anyone"), (MINE, "Assigned to me"), (UNASSIGNED, "Unassigned")]


class InboxFilterForm(forms.Form):
    kind = forms.ChoiceField(required=False)
    group = forms.ChoiceField(required=False)
    who = forms.ChoiceField(required=False, choices=WHO_CHOICES)
    breached = forms.BooleanField(required=False)

    def __init__(self, *args, sources: dict[str, Source], user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "Every kind")] + [
            (kind, source.label) for kind, source in sources.items()
        ]
        groups = dict.fromkeys(g for source in sources.values() for g in source.groups(user))
        self.fields["group"].choices = [("", "Every group")] + [(g, g) for g in groups]

    def filters(self) -> InboxFilters:
        """The valid filters; a value that is not one of the choices counts as not given."""
        self.is_valid()  # invalid fields are left out of cleaned_data
        data = self.cleaned_data
        return InboxFilters(
            kind=data.get("kind", ""),
            group=data.get("group", ""),
            who=data.get("who", ""),
            breached=bool(data.get("breached")),
        )


class ItemForm(forms.Form):
    kind = forms.CharField(max_length=40)
    key = forms.RegexField(regex=r"^[0-9]{1,18}$")


class DigestForm(forms.Form):
    digest = forms.TypedChoiceField(
        choices=[("on", "on"), ("off", "off")], coerce=lambda value: value == "on"
    )
