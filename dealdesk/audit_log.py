"""The audit log for Auditors: every event in words, with the deal it is about, filtered by
deal, actor, action and date, and the filtered rows as CSV.

In the core rather than in `audit`: naming the deal of a contract version or an approval
request needs the deal, and `audit` imports nothing above it (docs/architecture.md).
"""

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from audit.actions import Action, action_label
from audit.models import AuditEvent
from audit.selectors import audit_log

# The deal list's CSV helpers: one formula guard, one line sink.
from dealdesk.csv_export import csv_download, csv_lines, safe_cell
from dealdesk.deal_events import about_deals, deals_of
from dealdesk.models import Deal
from dealdesk.narration import Narrator, words
from dealdesk.paging import CappedPaginator
from dealdesk.views import list_queries

VIEW_PERM = "audit.view_auditevent"
PAGE_SIZE = 50
COUNT_CAP = 10_000
# Events narrated per round trip of the CSV export: a handful of queries a chunk.
CHUNK_SIZE = 500
SYSTEM = "system"
ACTION_CHOICES = [
    ("", "Any action"),
    *sorted(((a.value, action_label(a.value)) for a in Action), key=lambda c: c[1]),
]


class AuditLogFilterForm(forms.Form):
    deal = forms.CharField(required=False, max_length=255, strip=True)
    actor = forms.ChoiceField(required=False)
    action = forms.ChoiceField(required=False, choices=ACTION_CHOICES)
    since = forms.DateField(required=False)
    until = forms.DateField(required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        people = get_user_model().objects.order_by("first_name", "last_name", "username")
        self.fields["actor"].choices = [
            ("", "Anyone"),
            (SYSTEM, "System"),
            *(
                (str(pk), f"{first} {last} ({username})".strip() if first or last else username)
                for pk, username, first, last in people.values_list(
                    "pk", "username", "first_name", "last_name"
                )
            ),
        ]

    def clean(self) -> dict:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise forms.ValidationError("The start date is after the end date.")
        return data


def filtered_events(data: dict) -> QuerySet[AuditEvent]:
    """The events an auditor's (valid) filters match, newest first."""
    actor = data.get("actor") or ""
    events = audit_log(
        actor_id=int(actor) if actor.isdigit() else None,
        by_system=actor == SYSTEM,
        action=Action(data["action"]) if data.get("action") else None,
        since=_day_start(data.get("since")),
        before=_day_start(data["until"] + datetime.timedelta(days=1))
        if data.get("until")
        else None,
    )
    if data.get("deal"):
        events = events.filter(about_deals(_deals_matching(data["deal"])))
    return events


def _day_start(day: datetime.date | None) -> datetime.datetime | None:
    if day is None:
        return None
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _deals_matching(text: str) -> QuerySet[Deal]:
    """A deal by id, CRM id or (part of) its name."""
    condition = Q(crm_id__iexact=text) | Q(name__icontains=text)
    if text.isdigit():
        condition |= Q(pk=int(text))
    return Deal.objects.filter(condition)


@dataclass(frozen=True)
class LogRow:
    event: AuditEvent
    actor: str
    action: str
    details: list[str]
    deal: Deal | None
    about: str  # the object, in words


def log_rows(events: Iterable[AuditEvent]) -> list[LogRow]:
    """Events as the log shows them: a few queries for the lot, none per event."""
    events = list(events)
    narrator = Narrator(events)
    deals = deals_of(events)
    rows = []
    for event in events:
        deal = deals.get(event.pk)
        told = narrator.event(event, currency=deal.currency if deal else "")
        rows.append(
            LogRow(
                event=event,
                actor=told.actor,
                action=told.title,
                details=list(told.details),
                deal=deal,
                about=event.object_repr or words(event.object_type.split(".")[-1]),
            )
        )
    return rows


@permission_required(VIEW_PERM, raise_exception=True)
def audit_log_page(request: HttpRequest) -> HttpResponse:
    form = AuditLogFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    events = filtered_events(data)
    if request.GET.get("format") == "csv":
        return csv_download(csv_lines(COLUMNS, _csv_rows(events)), "audit-log.csv")
    page = CappedPaginator(events, PAGE_SIZE, count_cap=COUNT_CAP).get_page(request.GET.get("page"))
    query = list_queries(request)[0]
    return render(
        request,
        "audit/log.html",
        {
            "form": form,
            "selected": {name: request.GET.get(name, "") for name in form.fields},
            "page": page,
            "rows": log_rows(page),
            "query": query,
            "csv_query": f"{query}&format=csv" if query else "format=csv",
        },
    )


COLUMNS = ["Seq", "Time", "Actor", "Action", "Details", "Deal", "Deal id", "Object", "Reason"]


def _csv_rows(events: QuerySet[AuditEvent]) -> Iterator[list[object]]:
    stream = events.iterator(chunk_size=CHUNK_SIZE)
    while chunk := list(islice(stream, CHUNK_SIZE)):
        for row in log_rows(chunk):
            text = [
                row.actor,
                row.action,
                "; ".join(row.details),
                row.deal.name if row.deal else "",
            ]
            yield [
                row.event.seq,
                row.event.occurred_at.isoformat(),
                *(safe_cell(cell) for cell in text),
                row.deal.pk if row.deal else "",
                safe_cell(row.about),
                safe_cell(row.event.reason),
            ]
