"""The access review for Auditors (SOX's quarterly one): who is in which group, when they last
logged in and last decided an approval; filterable, sortable, paginated and as CSV."""

from django import forms
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.models import Group
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from audit.selectors import access_review as access_review_rows
from dealdesk.csv_export import csv_download, csv_lines, safe_cell
from dealdesk.paging import sorted_by
from dealdesk.views import list_queries

PAGE_SIZE = 50
SORTS = {"username": "username", "last_login": "last_login", "decided": "last_decision_at"}
FILTERS = ("q", "group", "active")
CSV_COLUMNS = [
    "username",
    "name",
    "email",
    "active",
    "staff",
    "superuser",
    "groups",
    "last_login",
    "last_decision_at",
    "last_decision",
    "last_decision_deal_id",
]


class AccessReviewFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100)
    group = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    active = forms.TypedChoiceField(
        required=False,
        choices=[("", "Active or not"), ("yes", "Active"), ("no", "Inactive")],
        coerce=lambda value: value == "yes",
        empty_value=None,
    )
    sort = forms.ChoiceField(
        required=False, choices=[(k, k) for key in SORTS for k in (key, f"-{key}")]
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [
            ("", "Any group"),
            *Group.objects.order_by("name").values_list("pk", "name"),
        ]

    def filters(self) -> dict:
        self.is_valid()
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name in FILTERS and value not in ("", None)
        }


# Auditors hold every view permission; nobody else may list the users.
@permission_required("auth.view_user", raise_exception=True)
def access_review(request: HttpRequest) -> HttpResponse:
    form = AccessReviewFilterForm(request.GET)
    filters = form.filters()
    users, sort = sorted_by(
        access_review_rows(**filters),
        sort=form.cleaned_data.get("sort") or "",
        sorts=SORTS,
        default="username",
    )
    if request.GET.get("format") == "csv":
        return _csv(users)
    query, sort_query = list_queries(request)
    return render(
        request,
        "audit/access_review.html",
        {
            "form": form,
            # As the selects compare them: the typed group id, the posted yes/no.
            "selected": {
                "q": filters.get("q", ""),
                "group": filters.get("group", ""),
                "active": request.GET.get("active", ""),
            },
            "page": Paginator(users, PAGE_SIZE).get_page(request.GET.get("page")),
            "sort": sort,
            "query": query,
            "sort_query": sort_query,
        },
    )


def _csv(users) -> HttpResponse:
    return csv_download(
        csv_lines(CSV_COLUMNS, map(_csv_row, users.iterator(chunk_size=500))), "access-review.csv"
    )


def _csv_row(user) -> list[object]:
    # Names and e-mails are typed by people: a would-be formula stays text.
    return [
        safe_cell(user.username),
        safe_cell(user.get_full_name()),
        safe_cell(user.email),
        user.is_active,
        user.is_staff,
        user.is_superuser,
        "; ".join(group.name for group in user.groups.all()),
        user.last_login.isoformat() if user.last_login else "",
        user.last_decision_at.isoformat() if user.last_decision_at else "",
        user.last_decision_on or "",
        user.last_decision_deal or "",
    ]
