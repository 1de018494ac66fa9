"""Reads of the deal domain, with the joins done, so pages issue a bounded number of queries."""

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from audit.actions import Action, canonical_action
from audit.models import AuditEvent
from dealdesk.deal_events import DEAL_TYPE, deal_events
from dealdesk.models import AMOUNT, Account, Deal, DealLine
from dealdesk.narration import Narrator
from dealdesk.paging import sorted_by
from dealdesk.pricing import DealTerms, LineInput, PricingError, PricingResult, price_deal
from dealdesk.roles import sees_all_deals
from dealdesk.templatetags.dealdesk import person

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
    "close_date",
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
    states: Collection[str] = (),
    pattern: str = "",
    owner: str = "",
    q: str = "",
    sort: str = DEFAULT_DEAL_SORT,
) -> QuerySet[Deal]:
    deals = visible_deals(user=user)
    if states:
        deals = deals.filter(state__in=states)
    if pattern:
        deals = deals.filter(pattern__code=pattern)
    if owner:
        deals = deals.filter(owner__username=owner)
    for word in search_words(q):
        # Every word must match somewhere: "acme renewal" finds Acme's renewal, not every
        # renewal. Accounts are searched in a subquery, once per word, rather than two LIKEs
        # on every deal's joined account: half the time on PostgreSQL (bench_deal_list.py).
        accounts = Account.objects.filter(Q(name__icontains=word) | Q(legal_name__icontains=word))
        deals = deals.filter(
            Q(name__icontains=word)
            | Q(account__in=accounts.values("pk"))
            # Salesforce shows 15-character ids and its API gives 18 (the 15 and a
            # checksum): a prefix finds the deal from either.
            | Q(crm_id__istartswith=word)
        )
    return sorted_by(deals, sort=sort, sorts=DEAL_SORTS, default=DEFAULT_DEAL_SORT)[0]


def search_words(q: str) -> list[str]:
    """The words of a search, each once (case-insensitively), in the order typed."""
    return list({word.casefold(): word for word in q.split()}.values())


def deals_in_order(*, ids: list[int]) -> list[Deal]:
    """The deal list's rows for these ids, in this order, with what the list (and its CSV
    export) shows."""
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


# A clause as its type and its params (contracts.taxonomy): what the pricing reads of it.
ClauseTerms = tuple[str, Mapping[str, Any]]


def deal_pricing(
    deal: Deal, lines: Sequence[DealLine], *, clauses: Iterable[ClauseTerms] | None = None
) -> PricingResult:
    """Price a deal from its stored lines and its contract's pricing clauses (raises
    PricingError on lines or clauses it cannot price).

    `clauses` are the contract's clauses; by default those of the deal's newest contract
    version (`deal_agreed_clauses`), so the deal page bills what the contract says.

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
        **pricing_clause_terms(deal_agreed_clauses(deal) if clauses is None else clauses),
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


def deal_agreed_clauses(deal: Deal) -> list[ClauseTerms]:
    """The clauses of the deal's newest contract version; none before one is drafted.

    Read through the reverse relation and the version's typed snapshot: the core may not
    import the contracts app (docs/architecture.md, layers), yet its pricing must be the
    contract's. The newest version, whatever its state: a superseded or voided one is still
    the last thing agreed until a new draft replaces it.
    """
    if deal.pk is None:
        return []
    version = deal.contract_versions.order_by("-number").first()
    if version is None:
        return []
    return [(clause.type, clause.params) for clause in version.typed_snapshot.clauses]


_PRICING_CLAUSE_TYPES = frozenset({"free_period", "price_uplift", "price_lock"})


def pricing_clause_terms(clauses: Iterable[ClauseTerms]) -> dict[str, Any]:
    """The DealTerms a contract's pricing clauses set: free period, uplift, price lock.

    One clause of each type: two free periods or two uplifts contradict each other, and a
    person decides which holds rather than the engine picking one. Params were checked by
    the taxonomy when the clause was made; they are read defensively all the same.
    """
    found: dict[str, Mapping[str, Any]] = {}
    for clause_type, params in clauses:
        if clause_type not in _PRICING_CLAUSE_TYPES:
            continue
        if clause_type in found:
            raise PricingError(f"the contract has two {clause_type} clauses: keep one")
        found[clause_type] = params
    try:
        terms: dict[str, Any] = {}
        if "free_period" in found:
            terms["free_months"] = int(found["free_period"]["months"])
        if "price_uplift" in found:
            uplift = found["price_uplift"]
            # Stored as text ("3.5"); through str, a float that slipped in is read as written.
            terms["uplift_pct"] = Decimal(str(uplift["pct"]))
            terms["uplift_every_months"] = int(uplift.get("every_months") or 12)
        if "price_lock" in found:
            terms["price_lock_months"] = int(found["price_lock"]["months"])
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise PricingError(f"pricing clause params cannot be read: {exc!r}") from exc
    return terms


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
    actor: str  # "Fran Lee (Finance)"
    title: str  # what happened, in words
    detail: str  # the reason, as written
    changes: Sequence[tuple[str, Any, Any]] = ()  # (field, old, new) as stored
    details: Sequence[str] = ()  # the changes and the event's data, in words


def deal_timeline(*, deal: Deal, limit: int = 200) -> list[TimelineEntry]:
    """Every audit event about the deal and its parts (contract versions, clause decisions,
    gate runs, approval requests, CRM drift) and the deal's field history, newest first, in
    words. A bounded number of queries, however long the story."""
    events = list(deal_events(deal=deal).order_by("-seq")[:limit])
    records = list(deal.history.select_related("history_user").order_by("-history_id")[:limit])
    diffs = [
        newer.diff_against(older, excluded_fields=_NOISY_FIELDS).changes if older else []
        for newer, older in zip(records, [*records[1:], None], strict=True)
    ]
    names = _related_names(Deal, [change for diff in diffs for change in diff])
    record_changes = [
        [
            (c.field, names.get((c.field, c.old), c.old), names.get((c.field, c.new), c.new))
            for c in diff
        ]
        for diff in diffs
    ]
    event_changes = [_event_changes(event.before, event.after) for event in events]
    folds = _fold_history_into_events(events, event_changes, records, record_changes)
    narrator = Narrator(events, users=[record.history_user for record in records])
    entries = []
    for i, event in enumerate(events):
        told = narrator.event(event, currency=deal.currency)
        extra = folds[i][1] if i in folds else []
        entries.append(
            TimelineEntry(
                at=event.occurred_at,
                kind="event",
                actor=told.actor,
                title=told.title,
                detail=event.reason,
                changes=[*event_changes[i], *extra],
                details=[*told.details, *narrator.changes(extra, currency=deal.currency)],
            )
        )
    folded = {j for j, _ in folds.values()}
    entries += [
        TimelineEntry(
            at=record.history_date,
            kind="change",
            actor=narrator.person(record.history_user),
            title=_HISTORY_TITLES[record.history_type],
            detail=record.history_change_reason or "",
            changes=record_changes[j],
            details=narrator.changes(record_changes[j], currency=deal.currency),
        )
        for j, record in enumerate(records)
        if j not in folded
    ]
    return sorted(entries, key=lambda e: e.at, reverse=True)[:limit]


_HISTORY_TITLES = {"+": "Deal record created", "~": "Deal details changed", "-": "Deal deleted"}
# A transition saves the deal (a history row) and writes its audit event in one transaction:
# shown once, as the event with whatever else the save changed.
_SAME_CHANGE_WITHIN = timedelta(seconds=2)
Change = tuple[str, Any, Any]


def _fold_history_into_events(
    events: Sequence[AuditEvent],
    event_changes: Sequence[list[Change]],
    records: Sequence[Any],
    record_changes: Sequence[list[Change]],
) -> dict[int, tuple[int, list[Change]]]:
    """event index → (index of the history row saved with it, that row's changes the event
    does not show already)."""
    candidates: dict[tuple, list[int]] = defaultdict(list)
    for i, event in enumerate(events):
        if event.object_type == DEAL_TYPE:  # a version's state is not the deal's
            for key in _fold_keys(event.actor_id, event_changes[i], created=_is_creation(event)):
                candidates[key].append(i)
    folds: dict[int, tuple[int, list[Change]]] = {}
    for j, record in enumerate(records):
        keys = _fold_keys(record.history_user_id, record_changes[j], record.history_type == "+")
        match = next(
            (
                i
                for key in keys
                for i in candidates[key]
                if i not in folds
                and abs(events[i].occurred_at - record.history_date) <= _SAME_CHANGE_WITHIN
            ),
            None,
        )
        if match is None:
            continue
        shown = {field for field, _, _ in event_changes[match]}
        folds[match] = (
            j,
            [
                c
                for c in record_changes[j]
                if c[0] not in shown
                and not (c[0] == "state_reason" and c[2] == events[match].reason)
            ],
        )
    return folds


def _is_creation(event: AuditEvent) -> bool:
    return canonical_action(event.action) == Action.DEAL_CREATED


def _fold_keys(actor_id: int | None, changes: Sequence[Change], created: bool) -> list[tuple]:
    """What an audit event and its history row share: who, and the state change (or creation)."""
    if created:
        return [(actor_id, "created")]
    return [(actor_id, change) for change in changes if change[0] == "state"]


def _related_names(model: type[Deal], changes: list) -> dict[tuple[str, Any], str]:
    """Names for the foreign-key ids in history diffs: one query per related model."""
    names = {}
    for field_name in {c.field for c in changes}:
        field = model._meta.get_field(field_name)
        if not field.is_relation:
            continue
        ids = {v for c in changes if c.field == field_name for v in (c.old, c.new) if v}
        for obj in field.related_model._default_manager.filter(pk__in=ids):
            names[(field_name, obj.pk)] = (
                person(obj) if field.related_model is get_user_model() else str(obj)
            )
    return names


def _event_changes(before: dict, after: dict) -> list[Change]:
    return [
        (key, before.get(key), after.get(key))
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    ]
