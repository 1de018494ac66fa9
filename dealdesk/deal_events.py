"""Which audit events are about a deal: its own, and those of the objects that belong to it
(contract versions with their clause decisions and gate runs, approval requests, CRM drift,
signature requests and their signers, billing records and invoices).

An event names its object by type and id only, so a version's or a request's deal is found
through that object's `deal` foreign key, in a subquery (the timeline) or one query per type
(a page of the audit log): never one query per event.
"""

from collections import defaultdict
from collections.abc import Iterable

from django.apps import apps
from django.db.models import CharField, Model, Q, QuerySet
from django.db.models.functions import Cast

from audit.models import AuditEvent
from dealdesk.models import Deal

DEAL_TYPE = Deal._meta.label_lower
# Audited models that belong to a deal, by label → the path from them to their deal: the
# core names the upper apps only as strings (docs/architecture.md, "Layers").
DEAL_PARTS = {
    "contracts.contractversion": "deal",
    "approvals.approvalrequest": "deal",
    "dealdesk.crmdrift": "deal",
    "esign.signaturerequest": "deal",
    "esign.signer": "request__deal",
    "billing.billingrecord": "deal",
    "billing.invoice": "deal",
}


def _part_models() -> list[tuple[type[Model], str]]:
    return [(apps.get_model(label), path) for label, path in DEAL_PARTS.items()]


def _text_pks(rows: QuerySet) -> QuerySet:
    # AuditEvent.object_id is text: compare like with like, so the (type, id, seq) index serves.
    return rows.annotate(text_pk=Cast("pk", CharField())).values("text_pk")


def about_deals(deals: QuerySet[Deal]) -> Q:
    """Events about any of `deals` or their parts, as one filter (subqueries, no extra query)."""
    condition = Q(object_type=DEAL_TYPE, object_id__in=_text_pks(deals))
    for model, path in _part_models():
        parts = model._default_manager.filter(**{f"{path}__in": deals})
        condition |= Q(object_type=model._meta.label_lower, object_id__in=_text_pks(parts))
    return condition


def deal_events(*, deal: Deal) -> QuerySet[AuditEvent]:
    """Every event about `deal` and its parts, by seq, with the actor joined."""
    return (
        AuditEvent.objects.filter(about_deals(Deal.objects.filter(pk=deal.pk)))
        .select_related("actor")
        .order_by("seq")
    )


def deals_of(events: Iterable[AuditEvent]) -> dict[int, Deal]:
    """event pk → the deal it is about, for events about deals or their parts (others are
    left out): one query per kind of part present, and one for the deals."""
    events = list(events)
    ids_by_type: dict[str, set[str]] = defaultdict(set)
    for event in events:
        ids_by_type[event.object_type].add(event.object_id)
    deal_id_of: dict[tuple[str, str], int] = {
        (DEAL_TYPE, object_id): int(object_id)
        for object_id in ids_by_type.get(DEAL_TYPE, ())
        if object_id.isdigit()
    }
    for model, path in _part_models():
        label = model._meta.label_lower
        ids = [i for i in ids_by_type.get(label, ()) if i.isdigit()]
        if ids:
            rows = model._default_manager.filter(pk__in=ids).values_list("pk", path)
            deal_id_of.update({(label, str(pk)): deal_id for pk, deal_id in rows})
    # state too: ConcurrentTransitionMixin reads it as each deal is built.
    deals = Deal.objects.only("pk", "name", "crm_id", "currency", "state").in_bulk(
        set(deal_id_of.values())
    )
    found = {}
    for event in events:
        deal_id = deal_id_of.get((event.object_type, event.object_id))
        if deal_id in deals:
            found[event.pk] = deals[deal_id]
    return found
