"""Reads of the deal domain, with the joins done, so pages issue a bounded number of queries."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from audit.actions import action_label
from audit.selectors import audit_events_for
from dealdesk.models import AMOUNT, Deal, DealLine
from dealdesk.paging import sorted_by
from dealdesk.pricing import DealTerms, LineInput, PricingError, PricingResult, price_deal
from dealdesk.roles import sees_all_deals

# Sort keys the deal list accepts (?sort=key or -key) and the columns they order by.
DEAL_SORTS = {
    "updated": "updated_at",
    "name": "name",
    "account": "account__name",
    "state": "state",
    "tcv": "tcv",
    "start": "start_date",
    "owner": "owner__username",
}
DEFAULT_DEAL_SORT = "-updated"
DEAL_LIST_FIELDS = [
    "name",
    "crm_id",
    "state",
    "currency",
    "start_date",
    "term_months",
    "tcv",
    "updated_at",
    "account__name",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
    "pattern__name",
]
# Bookkeeping fields that change on every save and say nothing to a reader.
_NOISY_FIELDS = ["updated_at", "state_changed_at", "priced_at"]


def visible_deals(*, user: AbstractBaseUser) -> QuerySet[Deal]:
    """Sales sees the deals it owns; every other role sees all of them."""
    deals = Deal.objects.all()
    if not sees_all_deals(user):
        deals = deals.filter(owner=user)
    return deals


def deal_list(
    *,
    user: AbstractBaseUser,
    state: str = "",
    pattern: str = "",
    owner: str = "",
    q: str = "",
    sort: str = DEFAULT_DEAL_SORT,
) -> QuerySet[Deal]:
    deals = visible_deals(user=user)
    if state:
        deals = deals.filter(state=state)
    if pattern:
        deals = deals.filter(pattern__code=pattern)
    if owner:
        deals = deals.filter(owner__username=owner)
    if q:
        deals = deals.filter(
            Q(name__icontains=q)
            | Q(account__name__icontains=q)
            | Q(account__legal_name__icontains=q)
            | Q(crm_id__iexact=q)
        )
    return sorted_by(deals, sort=sort, sorts=DEAL_SORTS, default=DEFAULT_DEAL_SORT)[0]


def deals_in_order(*, ids: list[int]) -> list[Deal]:
    """The deal list's rows for these ids, in this order, with what the list shows."""
    deals = (
        Deal.objects.filter(pk__in=ids)
        .select_related("account", "owner", "pattern")
        # Only the columns the list shows: a page builds 200 model instances.
        .only(*DEAL_LIST_FIELDS)
        .in_bulk()
    )
    return [deals[pk] for pk in ids]


def deal_get(*, user: AbstractBaseUser, pk: int) -> Deal:
    """The deal if the user may see it, else 404 (Sales must not learn other deals exist)."""
    return get_object_or_404(
        visible_deals(user=user).select_related("account", "owner", "pattern", "terms_edited_by"),
        pk=pk,
    )


def deal_lines(*, deal: Deal) -> list[DealLine]:
    return list(deal.lines.select_related("product"))


def deal_pricing(deal: Deal, lines: Sequence[DealLine]) -> PricingResult:
    """Price a deal from its stored lines (raises PricingError on lines it cannot price).

    A product Finance has not set up yet (a new SKU from the CRM) is named, with what to
    set, before the pricing engine would refuse it by line key.
    """
    unset = sorted({str(ln.product) for ln in lines if not ln.product.is_billing_complete})
    if unset:
        raise PricingError(
            f"{'products' if len(unset) > 1 else 'product'} {', '.join(unset)} not set up for "
            "billing: Finance sets the kind, billing interval and list price in the catalog"
        )
    terms = DealTerms(
        currency=deal.currency,
        start_date=deal.start_date,
        term_months=deal.term_months,
        billing_frequency=deal.billing_frequency,
    )
    result = price_deal(
        terms,
        [
            LineInput(
                key=str(line.pk),
                kind=line.product.kind,
                billing_interval=line.product.billing_interval,
                quantity=line.quantity,
                list_unit_price=line.list_unit_price,
                net_unit_price=line.net_unit_price,
                segment_index=line.segment_index,
            )
            for line in lines
        ],
    )
    _check_totals_fit(result)
    return result


# A deal's stored totals (dealdesk/models.py AMOUNT): lines that each fit their columns can
# still multiply past them over a term, and the database would refuse the save.
_AMOUNT_LIMIT = Decimal(10) ** (AMOUNT["max_digits"] - AMOUNT["decimal_places"])


def _check_totals_fit(result: PricingResult) -> None:
    for name in ("lines_total", "tcv", "acv", "arr", "first_year_value"):
        value = getattr(result, name)
        if abs(value) >= _AMOUNT_LIMIT:
            raise PricingError(
                f"{name.replace('_', ' ')} {value:,f} {result.currency} is beyond what a deal "
                f"can hold (less than {_AMOUNT_LIMIT:,f}): check the quantities and prices"
            )


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "event" (audit log) or "change" (field history)
    actor: str
    title: str
    detail: str
    changes: Sequence[tuple[str, Any, Any]] = ()


def deal_timeline(*, deal: Deal, limit: int = 200) -> list[TimelineEntry]:
    """Audit events and field-level history of the deal, newest first."""
    entries = [
        TimelineEntry(
            at=event.occurred_at,
            kind="event",
            actor=event.actor_username,
            title=action_label(event.action),
            detail=event.reason,
            changes=_event_changes(event.before, event.after),
        )
        for event in audit_events_for(obj=deal).order_by("-seq")[:limit]
    ]
    records = list(deal.history.select_related("history_user").order_by("-history_id")[:limit])
    diffs = [
        newer.diff_against(older, excluded_fields=_NOISY_FIELDS).changes if older else []
        for newer, older in zip(records, [*records[1:], None], strict=True)
    ]
    names = _related_names(Deal, [change for diff in diffs for change in diff])
    changes = []
    for record, diff in zip(records, diffs, strict=True):
        changes.append(
            TimelineEntry(
                at=record.history_date,
                kind="change",
                actor=record.history_user.username if record.history_user else "system",
                title={"+": "created", "~": "changed", "-": "deleted"}[record.history_type],
                detail=record.history_change_reason or "",
                changes=[
                    (
                        c.field,
                        names.get((c.field, c.old), c.old),
                        names.get((c.field, c.new), c.new),
                    )
                    for c in diff
                ],
            )
        )
    entries = _fold_changes_into_events(entries, changes)
    return sorted(entries, key=lambda e: e.at, reverse=True)[:limit]


# A transition saves the deal (a history row) and writes its audit event in one transaction:
# shown once, as the event with whatever else the save changed.
_SAME_CHANGE_WITHIN = timedelta(seconds=2)


def _fold_changes_into_events(
    events: list[TimelineEntry], changes: list[TimelineEntry]
) -> list[TimelineEntry]:
    folded = list(events)
    candidates: dict[tuple, list[int]] = defaultdict(list)
    for i, event in enumerate(events):
        for key in _fold_keys(event):
            candidates[key].append(i)
    left = []
    for change in changes:
        keys = _fold_keys(change)
        match = next(
            (
                i
                for key in keys
                for i in candidates[key]
                if abs(events[i].at - change.at) <= _SAME_CHANGE_WITHIN
            ),
            None,
        )
        if match is None:
            left.append(change)
            continue
        for key in _fold_keys(events[match]):
            candidates[key].remove(match)  # one history row per event
        event = folded[match]
        shown = {field for field, _, _ in event.changes}
        extra = [
            c
            for c in change.changes
            if c[0] not in shown and not (c[0] == "state_reason" and c[2] == event.detail)
        ]
        folded[match] = replace(event, changes=[*event.changes, *extra])
    return folded + left


def _fold_keys(entry: TimelineEntry) -> list[tuple]:
    """What an audit event and its history row share: who, and the state change (or creation)."""
    if entry.title == "created" or entry.title.endswith(".created"):
        return [(entry.actor, "created")]
    return [(entry.actor, change) for change in entry.changes if change[0] == "state"]


def _related_names(model: type[Deal], changes: list) -> dict[tuple[str, Any], str]:
    """Names for the foreign-key ids in history diffs: one query per related model."""
    names = {}
    for field_name in {c.field for c in changes}:
        field = model._meta.get_field(field_name)
        if not field.is_relation:
            continue
        ids = {v for c in changes if c.field == field_name for v in (c.old, c.new) if v}
        for obj in field.related_model._default_manager.filter(pk__in=ids):
            names[(field_name, obj.pk)] = str(obj)
    return names


def _event_changes(before: dict, after: dict) -> list[tuple[str, Any, Any]]:
    return [
        (key, before.get(key), after.get(key))
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    ]
