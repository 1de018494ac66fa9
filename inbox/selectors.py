"""Reads for the inbox page, its navigation count and the daily digest.

All kinds are paged together, oldest first: each source's visible rows reduced to the same
four columns (kind, key, group, since) and combined with UNION ALL, so ordering, counting and
paging happen in the database whatever the mix. The page's rows are then loaded with one
query per kind on the page, and their assignments with one more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, Q, QuerySet

from inbox.models import InboxAssignment
from inbox.sources import SOURCES, Described, Source

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

PAGE_SIZE = 25
MINE, UNASSIGNED = "mine", "unassigned"
COLUMNS = ("inbox_kind", "inbox_key", "inbox_group", "inbox_since")
# A kind missing from INBOX_SLA_HOURS gets this.
DEFAULT_SLA_HOURS = 24


@dataclass(frozen=True)
class InboxFilters:
    kind: str = ""
    group: str = ""
    who: str = ""  # MINE, UNASSIGNED or "" (anyone)
    breached: bool = False


@dataclass(frozen=True)
class InboxRow:
    kind: str
    label: str
    key: str
    group: str
    since: datetime
    sla_hours: int
    breached: bool
    described: Described
    assignee: AbstractBaseUser | None
    age: timedelta

    @property
    def sla_deadline(self) -> datetime:
        return self.since + timedelta(hours=self.sla_hours)


def sla_hours(kind: str) -> int:
    return int(settings.INBOX_SLA_HOURS.get(kind, DEFAULT_SLA_HOURS))


def sources_for(user: AbstractBaseUser) -> dict[str, Source]:
    """The kinds `user` may act on (permissions only: no query once they are cached)."""
    return {kind: s for kind, s in SOURCES.items() if s.visible(user) is not None}


def _current_assignment(kind: str) -> QuerySet[InboxAssignment]:
    # Only an assignment made since the row started waiting counts (see InboxAssignment).
    return InboxAssignment.objects.filter(
        kind=kind, object_key=OuterRef("inbox_key"), assigned_at__gte=OuterRef("inbox_since")
    )


def _entries(
    source: Source, user: AbstractBaseUser, filters: InboxFilters, now: datetime
) -> QuerySet | None:
    if filters.group and filters.group not in source.groups(user):
        return None
    rows = source.entries(user)
    if rows is None:
        return None
    if filters.group:
        rows = rows.filter(inbox_group=filters.group)
    if filters.breached:
        rows = rows.filter(inbox_since__lt=now - timedelta(hours=sla_hours(source.kind)))
    if filters.who == MINE:
        rows = rows.filter(Exists(_current_assignment(source.kind).filter(user=user)))
    elif filters.who == UNASSIGNED:
        rows = rows.exclude(Exists(_current_assignment(source.kind)))
    return rows


def _union(parts: list[QuerySet]) -> QuerySet | None:
    # Each part unordered (SQLite refuses ORDER BY inside a compound query).
    parts = [part.order_by().values_list(*COLUMNS) for part in parts]
    if not parts:
        return None
    return parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]


def kind_counts(*, user: AbstractBaseUser, filters: InboxFilters, now: datetime) -> dict[str, int]:
    """How many rows of each kind the user sees under `filters` (the kind filter aside):
    one COUNT per kind the user may act on."""
    counts = {}
    for kind, source in sources_for(user).items():
        rows = _entries(source, user, InboxFilters(**{**filters.__dict__, "kind": ""}), now)
        counts[kind] = rows.count() if rows is not None else 0
    return counts


def inbox_page(
    *,
    user: AbstractBaseUser,
    filters: InboxFilters,
    now: datetime,
    page_number: str | int | None = 1,
    per_page: int = PAGE_SIZE,
) -> tuple[Page, list[InboxRow]]:
    """One page of what waits for `user`, oldest first, and its rows in words."""
    sources = sources_for(user)
    if filters.kind:
        sources = {k: s for k, s in sources.items() if k == filters.kind}
    parts = [
        rows for s in sources.values() if (rows := _entries(s, user, filters, now)) is not None
    ]
    combined = _union(parts)
    if combined is None:
        combined = InboxAssignment.objects.none().values_list("kind")
    else:
        combined = combined.order_by("inbox_since", "inbox_kind", "inbox_key")
    page = Paginator(combined, per_page).get_page(page_number)
    return page, _rows(list(page.object_list), now)


def _rows(entries: list[tuple], now: datetime) -> list[InboxRow]:
    keys_by_kind: dict[str, list[str]] = {}
    for kind, key, _group, _since in entries:
        keys_by_kind.setdefault(kind, []).append(key)
    loaded = {kind: SOURCES[kind].load(keys) for kind, keys in keys_by_kind.items()}
    assignments = _assignments(keys_by_kind)
    rows = []
    for kind, key, group, since in entries:
        obj = loaded[kind].get(key)
        if obj is None:  # resolved between the page's two reads
            continue
        source, hours = SOURCES[kind], sla_hours(kind)
        assignment = assignments.get((kind, key))
        rows.append(
            InboxRow(
                kind=kind,
                label=source.label,
                key=key,
                group=group,
                since=since,
                sla_hours=hours,
                breached=since < now - timedelta(hours=hours),
                age=now - since,
                described=source.describe(obj),
                assignee=assignment.user
                if assignment and assignment.assigned_at >= since
                else None,
            )
        )
    return rows


def _assignments(keys_by_kind: dict[str, list[str]]) -> dict[tuple[str, str], InboxAssignment]:
    if not keys_by_kind:
        return {}
    which = Q()
    for kind, keys in keys_by_kind.items():
        which |= Q(kind=kind, object_key__in=keys)
    return {
        (a.kind, a.object_key): a
        for a in InboxAssignment.objects.filter(which).select_related("user")
    }


def waiting_count(*, user: AbstractBaseUser) -> int:
    """Everything waiting that the user may act on, in one COUNT (the navigation's badge)."""
    parts = [rows for s in sources_for(user).values() if (rows := s.entries(user)) is not None]
    combined = _union(parts)
    return combined.count() if combined is not None else 0


def request_waiting_count(request: HttpRequest) -> int:
    """waiting_count, counted once per request however many templates ask."""
    if not hasattr(request, "_inbox_waiting_count"):
        request._inbox_waiting_count = waiting_count(user=request.user)
    return request._inbox_waiting_count


def waiting_entry(*, user: AbstractBaseUser, kind: str, key: str) -> tuple[Source, datetime] | None:
    """The kind's source and when the row started waiting, if it waits and `user` sees it."""
    source = SOURCES.get(kind)
    # Keys are primary keys: anything else (hostile input) is simply not waiting.
    if source is None or not (key.isascii() and key.isdigit() and len(key) <= 18):
        return None
    rows = source.entries(user)
    if rows is None:
        return None
    since = rows.filter(pk=key).values_list("inbox_since", flat=True).first()
    return (source, since) if since is not None else None
