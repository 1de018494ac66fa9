"""Writes the CRM sync makes to deals, and the deal desk's decisions on CRM drift.

A deal still in `new` or `drafting` takes a CRM change in place (and is re-priced); past
drafting the change becomes a CrmDrift for a person to accept (re-draft) or dismiss.
"""

import json
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django_fsm import TransitionNotAllowed, can_proceed, has_transition_perm

from audit.actions import Action
from audit.services import record_change
from dealdesk import services
from dealdesk.crm.models import CrmDrift
from dealdesk.models import Contact, Deal, DealContact, DealLine, DealState, Product
from dealdesk.pricing import PricingError, net_unit_price
from dealdesk.selectors import deal_pricing

S = DealState
# The CRM may rewrite these in place: no draft has been reviewed yet.
EDITABLE = {S.NEW, S.DRAFTING}
# Accepting drift re-drafts through these transitions, from the deal's state.
REDRAFT_PATH = {
    S.IN_REVIEW: [services.deal_request_changes, services.deal_redraft],
    S.APPROVED: [services.deal_request_changes, services.deal_redraft],
    S.CHANGES_REQUESTED: [services.deal_redraft],
    S.MANUAL_REVIEW: [],  # a person is on it already: take the change and leave it there
}


def crm_sync_user() -> AbstractBaseUser:
    return services.service_user(
        username=settings.CRM_SYNC_USERNAME,
        first_name="CRM sync",
        permissions=["manage_deal", "run_pipeline"],
    )


def as_json(value):
    """Values as a JSONField stores them (Decimal and dates as strings), for comparing."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


@dataclass
class DealChange:
    """What the CRM says is different: deal fields, lines and contact roles by CRM id
    (None: deleted). A contact role is as mapping.map_contact_role gives it; its Contact
    row exists already (the sync creates contacts first)."""

    fields: dict = field(default_factory=dict)
    lines: dict = field(default_factory=dict)
    contacts: dict = field(default_factory=dict)
    withdrawn: str = ""

    def __bool__(self) -> bool:
        return bool(self.fields or self.lines or self.contacts or self.withdrawn)

    def as_proposal(self) -> dict:
        return as_json(
            {
                "fields": self.fields,
                "lines": self.lines,
                "contacts": self.contacts,
                "withdrawn": self.withdrawn,
            }
        )

    @classmethod
    def from_proposal(cls, proposal: dict) -> "DealChange":
        """A stored drift proposal back as a change (older proposals lack newer keys)."""
        return cls(
            fields=proposal.get("fields", {}),
            lines=proposal.get("lines", {}),
            contacts=proposal.get("contacts", {}),
            withdrawn=proposal.get("withdrawn", ""),
        )

    def then(self, newer: "DealChange") -> "DealChange":
        """This change with a newer one on top: the newer values win."""
        return DealChange(
            fields={**self.fields, **newer.fields},
            lines={**self.lines, **newer.lines},
            contacts={**self.contacts, **newer.contacts},
            withdrawn=newer.withdrawn or self.withdrawn,
        )


@transaction.atomic
def deal_apply_crm_change(*, deal_id: int, change: DealChange, actor: AbstractBaseUser) -> Deal:
    """Apply CRM values to a deal, its lines and contact roles: history and one audit event."""
    deal = Deal.objects.select_for_update().get(pk=deal_id)
    before = {name: getattr(deal, name) for name in change.fields}
    for name, value in change.fields.items():
        setattr(deal, name, Deal._meta.get_field(name).to_python(value))

    def fill_line(line: DealLine, values: dict) -> None:
        for name, value in values.items():
            setattr(line, name, DealLine._meta.get_field(name).to_python(value))
        line.net_unit_price = net_unit_price(line.list_unit_price, line.discount_pct)

    _apply_children(
        deal.lines.filter(crm_id__in=list(change.lines)),
        change.lines,
        actor,
        make=lambda crm_id: DealLine(deal=deal, crm_id=crm_id),
        fill=fill_line,
    )
    contacts = Contact.objects.in_bulk(
        [v["contact"] for v in change.contacts.values() if v is not None], field_name="crm_id"
    )

    def fill_role(role: DealContact, values: dict) -> None:
        role.contact = contacts[values["contact"]]
        role.role, role.is_primary = values["role"], values["is_primary"]

    _apply_children(
        deal.contact_roles.filter(crm_id__in=list(change.contacts)),
        change.contacts,
        actor,
        make=lambda crm_id: DealContact(deal=deal, crm_id=crm_id),
        fill=fill_role,
    )
    if deal.priced_at is not None:
        try:
            services.store_pricing(deal, deal_pricing(deal, list(deal.lines.all())))
        except PricingError as exc:
            deal.state_reason = f"cannot be re-priced after a CRM change: {exc}"
    record_change(
        deal,
        actor=actor,
        action=Action.DEAL_CRM_CHANGED,
        history_reason="changed in the CRM",
        before=as_json(before),
        after=as_json({**change.fields, "lines": change.lines, "contacts": change.contacts}),
    )
    return deal


def _apply_children(rows, changes: dict, actor: AbstractBaseUser, *, make, fill) -> None:
    """A deal's lines or contact roles by CRM id: None removes one, values create or update."""
    current = {row.crm_id: row for row in rows}
    for crm_id, values in changes.items():
        row = current.get(crm_id)
        if values is None:
            if row is not None:
                row._history_user, row._change_reason = actor, "removed in the CRM"
                row.delete()
            continue
        row = row or make(crm_id)
        fill(row, values)
        row._history_user, row._change_reason = actor, "changed in the CRM"
        row.save()


def drift_describe(deal: Deal, proposal: dict, products: dict[int, Product]) -> list[dict]:
    """[{"what", "old", "new"}] for people: the deal as it is → as the CRM has it now."""
    rows = []
    if proposal.get("withdrawn"):
        rows.append({"what": "CRM status", "old": "won", "new": proposal["withdrawn"]})
    for name, new in proposal.get("fields", {}).items():
        label = Deal._meta.get_field(name).verbose_name
        rows.append({"what": str(label), "old": str(getattr(deal, name)), "new": str(new)})
    current = {line.crm_id: line for line in deal.lines.all()}
    roles = {r.crm_id: r for r in deal.contact_roles.select_related("contact")}
    for crm_id, values in proposal.get("contacts", {}).items():
        role = roles.get(crm_id)
        rows.append(
            {
                "what": f"contact role {crm_id}",
                "old": _role_text(role.contact.name, role.role, role.is_primary) if role else "—",
                "new": "removed"
                if values is None
                else _role_text(values["name"], values["role"], values["is_primary"]),
            }
        )
    for crm_id, values in proposal.get("lines", {}).items():
        line = current.get(crm_id)
        old = (
            _line_text(line.product, line.quantity, line.list_unit_price, line.discount_pct)
            if line
            else "—"
        )
        new = "removed"
        if values is not None:
            product = products.get(values["product_id"])
            new = _line_text(
                product, values["quantity"], values["list_unit_price"], values["discount_pct"]
            )
        rows.append({"what": f"line {crm_id}", "old": old, "new": new})
    return rows


def _role_text(name: str, role: str, is_primary: bool) -> str:
    return f"{name} ({role or 'contact'}{', primary' if is_primary else ''})"


def _line_text(product, quantity, price, discount) -> str:
    return f"{product.sku if product else '?'} × {quantity} @ {price} −{discount} %"


@transaction.atomic
def drift_record(*, deal: Deal, change: DealChange, actor: AbstractBaseUser) -> CrmDrift | None:
    """Open (or extend) the deal's drift; None when it already says exactly this."""
    drift = (
        CrmDrift.objects.select_for_update().filter(deal=deal, status=CrmDrift.Status.OPEN).first()
    )
    proposal = change.as_proposal()
    if drift is not None:
        already = DealChange.from_proposal(drift.proposal)
        proposal = already.then(change).as_proposal()
        if proposal == already.as_proposal():
            return None
    drift = drift or CrmDrift(deal=deal)
    products = {p.pk: p for p in Product.objects.all()}
    drift.proposal = proposal
    drift.changes = drift_describe(deal, proposal, products)
    record_change(
        drift,
        actor=actor,
        action=Action.CRM_DRIFT_DETECTED,
        history_reason="CRM changed a deal past drafting",
        after={"changes": drift.changes},
    )
    return drift


def _locked_open_drift(drift_id: int, actor: AbstractBaseUser, decision: str) -> CrmDrift:
    """The drift, row-locked: two people deciding it at once, the second waits here and
    then finds it decided. Wrong state says so; a missing permission is a 403."""
    drift = CrmDrift.objects.select_for_update().select_related("deal").get(pk=drift_id)
    transition = getattr(drift, decision)
    if not can_proceed(transition):
        raise TransitionNotAllowed(f"CRM drift {drift.pk} is already {drift.status}")
    if not has_transition_perm(transition, actor):
        raise PermissionDenied(f"{actor} may not decide CRM drift")
    return drift


def _record_decision(drift: CrmDrift, actor: AbstractBaseUser, action: Action, reason: str) -> None:
    record_change(
        drift,
        actor=actor,
        action=action,
        reason=reason,
        history_reason=f"CRM change {drift.status}",
        before={"status": CrmDrift.Status.OPEN},
        after={"status": drift.status, "changes": drift.changes},
    )


@transaction.atomic
def crm_drift_accept(*, drift_id: int, actor: AbstractBaseUser, reason: str = "") -> CrmDrift:
    """Take the CRM's version: the deal goes back to drafting with the new values."""
    drift = _locked_open_drift(drift_id, actor, "accept")
    deal = Deal.objects.select_for_update().get(pk=drift.deal_id)
    if drift.proposal.get("withdrawn"):
        raise TransitionNotAllowed(
            f"deal {deal.pk} is {deal.get_state_display().lower()}: a withdrawal in the CRM "
            "cannot undo it; dismiss this and settle it with the customer"
        )
    if deal.state not in REDRAFT_PATH:
        raise TransitionNotAllowed(
            f"deal {deal.pk} is {deal.get_state_display().lower()}: it cannot be re-drafted; "
            "dismiss this and amend the contract instead"
        )
    why = reason or "CRM change accepted"
    for step in REDRAFT_PATH[deal.state]:
        step(deal_id=deal.pk, actor=actor, reason=why)
    deal_apply_crm_change(
        deal_id=deal.pk, change=DealChange.from_proposal(drift.proposal), actor=actor
    )
    drift.accept(by=actor, reason=why)
    _record_decision(drift, actor, Action.CRM_DRIFT_ACCEPTED, why)
    return drift


@transaction.atomic
def crm_drift_dismiss(*, drift_id: int, actor: AbstractBaseUser, reason: str) -> CrmDrift:
    """Keep the deal as it is; the reason says why the CRM's version does not apply."""
    if not reason.strip():
        raise services.ReasonRequired("a reason is required to dismiss a CRM change")
    drift = _locked_open_drift(drift_id, actor, "dismiss")
    drift.dismiss(by=actor, reason=reason)
    _record_decision(drift, actor, Action.CRM_DRIFT_DISMISSED, reason)
    return drift
