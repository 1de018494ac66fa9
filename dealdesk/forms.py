from django import forms
from django.http import QueryDict

from dealdesk.models import DealPattern, DealState, SavedDealFilter
from dealdesk.selectors import DEAL_SORTS, DEFAULT_DEAL_SORT

SEARCH_MAX_LENGTH = 100
# Said, never truncated: a search cut short (or dropped) would show deals that do not match.
SEARCH_TOO_LONG = (
    f"Search takes at most {SEARCH_MAX_LENGTH} characters (this one has %(show_value)d): "
    "keep the words that matter. No deals are shown until the search is shortened."
)


class StatesField(forms.MultipleChoiceField):
    """Several states (?state=a&state=b), each once. An empty value is no filter: the former
    single select sent `state=` for "Any state", and links from then must keep working."""

    def to_python(self, value) -> list[str]:
        return list(dict.fromkeys(v for v in super().to_python(value) if v))


class DealFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        label="Search",
        max_length=SEARCH_MAX_LENGTH,
        error_messages={"max_length": SEARCH_TOO_LONG},
    )
    state = StatesField(required=False, choices=DealState.choices)
    pattern = forms.ChoiceField(required=False)
    owner = forms.ChoiceField(required=False)
    sort = forms.CharField(required=False)

    def __init__(self, *args, owners: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pattern"].choices = [
            ("", "Any pattern"),
            *DealPattern.objects.values_list("code", "name"),
        ]
        self.fields["owner"].choices = [("", "Any owner"), *((u, u) for u in owners)]

    def clean_sort(self) -> str:
        # A stale or made-up sort orders the list the default way: it hides no deal.
        sort = self.cleaned_data["sort"]
        return sort if sort.removeprefix("-") in DEAL_SORTS else ""

    def selector_filters(self) -> dict:
        """The cleaned filters as selectors.deal_list takes them (call after is_valid)."""
        data = self.cleaned_data
        return {
            "q": data["q"],
            "states": data["state"],
            "pattern": data["pattern"],
            "owner": data["owner"],
            "sort": data["sort"] or DEFAULT_DEAL_SORT,
        }

    def query_string(self) -> str:
        """The cleaned filters as a query string: known fields and valid values only, the
        form a saved filter keeps (call after is_valid)."""
        query = QueryDict(mutable=True)
        for name in self.fields:
            value = self.cleaned_data[name]
            if isinstance(value, list):
                query.setlist(name, value)
            elif value:
                query[name] = value
        return query.urlencode()


class SavedDealFilterForm(forms.Form):
    """Save the deal list's current filters under a name. `query` comes back from the page
    and is hostile like any input: it is parsed and cleaned by DealFilterForm again, and
    only the cleaned filters are kept."""

    name = forms.CharField(
        max_length=SavedDealFilter._meta.get_field("name").max_length,
        error_messages={"required": "Name the filter to save it."},
    )
    query = forms.CharField(required=False, max_length=4000)

    def __init__(self, *args, owners: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.owners = owners

    def clean_query(self) -> str:
        filters = DealFilterForm(QueryDict(self.cleaned_data["query"]), owners=self.owners)
        if not filters.is_valid():
            raise forms.ValidationError(f"This filter cannot be saved: {first_error(filters)}")
        return filters.query_string()


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


class CancelDealForm(ReasonForm):
    """Cancelling cannot be undone: the page asks the person to tick a box saying so, and
    the server checks it too, so a post without it (a stray click, a script) cancels nothing."""

    confirm = forms.BooleanField(
        error_messages={"required": "Tick the box to confirm: a cancelled deal cannot be revived."}
    )


class OptionalReasonForm(forms.Form):
    """Where a reason may be left out (an approval note), but not run past the limit."""

    reason = reason_field(required=False)


class ResumeForm(ReasonForm):
    pattern = forms.ModelChoiceField(
        queryset=DealPattern.objects.all(), to_field_name="code", empty_label=None
    )
