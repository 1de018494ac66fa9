"""Who signs a deal's contract, and in which order: the customer's signers from the deal's
contact roles, then our countersigner from Finance's signing authority table.

Each "nobody can sign" answer is an error carrying one sentence for Deal Desk, who can fix
it (a contact role in the CRM, a row in the authority table), never a bare "not found".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from approvals.policy import POLICY_CURRENCY
from approvals.selectors import in_policy_currency
from contracts.esign.models import SigningAuthority
from dealdesk.models import Deal
from dealdesk.roles import SegregationOfDutiesError, check_segregation_of_duties, owner_unmapped
from dealdesk.templatetags.dealdesk import money

# Contact roles (the CRM's OpportunityContactRole.Role) whose holder signs for the customer;
# the primary contact role signs too, being the signer the drafted contract names
# (contracts/snapshot.py).
SIGNING_ROLES = frozenset({"signer", "decision maker", "economic decision maker", "economic buyer"})
ROUTING_ORDERS = ("customer_first", "us_first", "parallel")
CUSTOMER = "customer"
COUNTERSIGNER = "countersigner"


class SigningRouteError(Exception):
    """Nobody can sign on one side; `reason` says so to Deal Desk in one sentence."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NoCustomerSigner(SigningRouteError):
    pass


class NoCountersigner(SigningRouteError):
    pass


@dataclass(frozen=True)
class CustomerSigner:
    name: str
    email: str


@dataclass(frozen=True)
class Countersigner:
    authority_id: int
    user_id: int
    name: str
    email: str
    title: str  # as printed on the signing certificate
    max_tcv: Decimal | None  # in POLICY_CURRENCY; None: no upper limit
    tcv_in_policy_currency: Decimal  # what the limit was compared with


class RouteStep(NamedTuple):
    routing_order: int  # steps sharing a number sign in parallel
    role: str  # CUSTOMER or COUNTERSIGNER
    name: str
    email: str
    user_id: int | None  # ours only; a customer's signer is no Dealdesk user


def tcv_in_policy_currency(deal: Deal) -> Decimal:
    """The deal's TCV at Finance's policy exchange rate (approvals' rate table and lookup)."""
    if deal.tcv is None:
        raise NoCountersigner(f"Deal {deal} has no TCV yet: price it before it goes for signature.")
    tcv = in_policy_currency(deal.tcv, deal.currency)
    if tcv is None:
        raise NoCountersigner(
            f"Finance has set no policy exchange rate for {deal.currency}, so deal {deal}'s "
            f"TCV cannot be compared with the signing limits in {POLICY_CURRENCY}."
        )
    return tcv


def countersigner_for(deal: Deal) -> Countersigner:
    """The active authority with the smallest limit covering the deal's TCV whose holder may
    sign this deal (an active user with an e-mail address, free of segregation of duties);
    ties go to the row added first."""
    if unmapped := owner_unmapped(deal):  # bars everyone alike: say it once
        raise NoCountersigner(f"Nobody may countersign yet: {unmapped}.")
    tcv = tcv_in_policy_currency(deal)
    today = timezone.localdate()
    candidates = (
        SigningAuthority.objects.filter(
            Q(max_tcv__isnull=True) | Q(max_tcv__gte=tcv),
            Q(valid_from__isnull=True) | Q(valid_from__lte=today),
            Q(valid_to__isnull=True) | Q(valid_to__gte=today),
            active=True,
            currency=POLICY_CURRENCY,
            user__is_active=True,
        )
        .select_related("user")
        .order_by(F("max_tcv").asc(nulls_last=True), "pk")
    )
    shown = money(tcv, POLICY_CURRENCY)
    if deal.currency != POLICY_CURRENCY:
        shown = f"{money(deal.tcv, deal.currency)} ({shown})"
    barred = []
    for authority in candidates:
        user = authority.user
        name = user.get_full_name() or user.get_username()
        if not user.email:
            barred.append(f"{name} ({authority.title}) has no e-mail address")
            continue
        try:
            check_segregation_of_duties(user=user, deal=deal)
        except SegregationOfDutiesError as exc:
            barred.append(f"{name} ({authority.title}): {exc}")
            continue
        return Countersigner(
            authority_id=authority.pk,
            user_id=user.pk,
            name=name,
            email=user.email,
            title=authority.title,
            max_tcv=authority.max_tcv,
            tcv_in_policy_currency=tcv,
        )
    if not barred:
        raise NoCountersigner(
            f"Nobody has signing authority for deal {deal}'s TCV of {shown}: Finance adds "
            "or extends one in the admin (E-signature → Signing authorities)."
        )
    raise NoCountersigner(
        f"Nobody may countersign deal {deal} (TCV {shown}): " + "; ".join(barred) + ". "
        "Finance adds another signing authority in the admin (E-signature → Signing authorities)."
    )


def customer_signers(deal: Deal) -> list[CustomerSigner]:
    """The customer's signers from the deal's contact roles, primary first, each e-mail once."""
    signers: dict[str, CustomerSigner] = {}
    for role in deal.contact_roles.select_related("contact").order_by("-is_primary", "pk"):
        contact = role.contact
        signs = role.is_primary or role.role.strip().lower() in SIGNING_ROLES
        if signs and contact.email and contact.email.lower() not in signers:
            signers[contact.email.lower()] = CustomerSigner(name=contact.name, email=contact.email)
    if not signers:
        raise NoCustomerSigner(
            f'Deal {deal} has no customer signer with an e-mail address: add a "Signer" '
            "contact role, with the contact's e-mail, to the opportunity in the CRM and sync."
        )
    return list(signers.values())


def signing_route(deal: Deal, *, order: str | None = None) -> list[RouteStep]:
    """Everyone who signs the deal's contract, by routing order (settings.ESIGN_ROUTING_ORDER
    unless `order` is given): "customer_first" puts our countersignature last, so we sign
    only what the customer accepted; "us_first" the other way round; "parallel" all at once.
    """
    order = order or settings.ESIGN_ROUTING_ORDER
    if order not in ROUTING_ORDERS:
        raise ValueError(f"routing order {order!r} is none of {', '.join(ROUTING_ORDERS)}")
    customers = customer_signers(deal)
    us = countersigner_for(deal)
    ours = RouteStep(1, COUNTERSIGNER, us.name, us.email, us.user_id)
    if order == "parallel":
        return [RouteStep(1, CUSTOMER, c.name, c.email, None) for c in customers] + [ours]
    first = 2 if order == "us_first" else 1
    theirs = [
        RouteStep(first + i, CUSTOMER, c.name, c.email, None) for i, c in enumerate(customers)
    ]
    if order == "us_first":
        return [ours, *theirs]
    return [*theirs, ours._replace(routing_order=len(theirs) + 1)]
