"""The dashboard's filters: a period (a preset or from/to), segment, pattern and owner.

Every value comes from the query string and is hostile: dates are parsed by Django, the
segment, pattern and owner must be ones the choices offer, and a period is at most a year long (the
percentiles are computed over the stage changes inside it).
"""

import datetime
from dataclasses import dataclass

from django import forms
from django.contrib.auth import get_user_model
from django.http import QueryDict
from django.utils import timezone

from dealdesk.models import DealPattern
from dealdesk.roles import Role
from dealdesk.segments import Segment

MAX_PERIOD_DAYS = 366
PRESETS = {
    "4w": "Last 4 weeks",
    "12w": "Last 12 weeks",
    "quarter": "This quarter",
}
DEFAULT_PRESET = "12w"


@dataclass(frozen=True)
class Period:
    first_day: datetime.date
    last_day: datetime.date
    start: datetime.datetime  # the first day's midnight, local time
    end: datetime.datetime  # the day after the last day's midnight, or now if sooner

    @classmethod
    def of(cls, first_day: datetime.date, last_day: datetime.date) -> "Period":
        now = timezone.now()
        return cls(
            first_day=first_day,
            last_day=last_day,
            start=_midnight(first_day),
            end=min(now, _midnight(last_day + datetime.timedelta(days=1))),
        )

    def weeks(self) -> list[datetime.date]:
        """The Mondays of the weeks the period touches."""
        monday = week_of(self.first_day)
        weeks = []
        while monday <= self.last_day:
            weeks.append(monday)
            monday += datetime.timedelta(days=7)
        return weeks


def week_of(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def preset_period(preset: str, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    if preset == "quarter":
        return datetime.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today
    weeks = 4 if preset == "4w" else 12
    return today - datetime.timedelta(days=7 * weeks - 1), today


@dataclass(frozen=True)
class DashboardFilters:
    period: Period
    segment: str  # a Segment value, or "" for any
    pattern: str  # a DealPattern code, or "" for any
    owner: str  # an owner's username, or "" for any
    preset: str  # "" when from/to were given

    @property
    def segment_label(self) -> str:
        return Segment(self.segment).label if self.segment else ""


class DashboardFilterForm(forms.Form):
    preset = forms.ChoiceField(required=False, choices=[("", "Custom"), *PRESETS.items()])
    date_from = forms.DateField(required=False, label="From")
    date_to = forms.DateField(required=False, label="To")
    segment = forms.ChoiceField(required=False, choices=[("", "Any segment"), *Segment.choices])
    pattern = forms.ChoiceField(required=False)
    owner = forms.ChoiceField(required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pattern"].choices = [
            ("", "Any pattern"),
            *DealPattern.objects.values_list("code", "name"),
        ]
        owners = (
            get_user_model()
            .objects.filter(groups__name=Role.SALES)
            .order_by("username")
            .values_list("username", flat=True)
        )
        self.fields["owner"].choices = [("", "Any owner"), *((u, u) for u in owners)]

    def clean(self) -> dict:
        data = super().clean()
        first, last = data.get("date_from"), data.get("date_to")
        today = timezone.localdate()
        # A preset wins (the page sends the dates it shows too); "Custom" or dates alone in
        # a link use the dates, one missing end being today or a year before the other.
        if not data.get("preset") and (first or last):
            last = last or today
            first = first or last - datetime.timedelta(days=MAX_PERIOD_DAYS - 1)
            data["preset"] = ""
            if first > last:
                raise forms.ValidationError("The period starts after it ends.")
            if (last - first).days >= MAX_PERIOD_DAYS:
                raise forms.ValidationError(
                    f"Choose a period of at most {MAX_PERIOD_DAYS} days: this one has "
                    f"{(last - first).days + 1}."
                )
        else:
            data["preset"] = data.get("preset") or DEFAULT_PRESET
            first, last = preset_period(data["preset"], today)
        data["date_from"], data["date_to"] = first, last
        return data

    def filters(self) -> DashboardFilters:
        """The cleaned filters (call after is_valid)."""
        data = self.cleaned_data
        return DashboardFilters(
            period=Period.of(data["date_from"], data["date_to"]),
            segment=data["segment"],
            pattern=data["pattern"],
            owner=data["owner"],
            preset=data["preset"],
        )

    def query_string(self) -> str:
        """The cleaned filters as a query string, for the links and the CSV (after is_valid)."""
        data = self.cleaned_data
        query = QueryDict(mutable=True)
        if data["preset"]:
            query["preset"] = data["preset"]
        else:
            query["date_from"] = data["date_from"].isoformat()
            query["date_to"] = data["date_to"].isoformat()
        for name in ("segment", "pattern", "owner"):
            if data[name]:
                query[name] = data[name]
        return query.urlencode()
