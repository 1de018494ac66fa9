"""Reads for approvals: the facts the gates and the policy see, the queue, a deal's panel."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.exceptions import PermissionDenied
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)

from approvals import gates, policy
from approvals.models import (
    ApprovalDelegation,
    ApprovalRequest,
    ApprovalRule,
    GateRun,
    PolicyExchangeRate,
    R,
)
from contracts.models import ClauseType, ContractState, ContractVersion
from contracts.review_rules import review_clause_types
from contracts.selectors import current_version
from contracts.snapshot_types import ContractSnapshot
from dealdesk.models import Deal, DealLine, DealTermsEdit, Product
from dealdesk.paging import sorted_by
from dealdesk.roles import SegregationOfDutiesError, check_segregation_of_duties
from dealdesk.selectors import pricing_clause_terms


@dataclass(frozen=True)
class Evaluation:
    """Every gate's result and the approvals the policy asks for, for one contract version."""

    gates: list[gates.GateResult]
    fired: list[policy.FiredRule]
    required: list[policy.RequiredApproval]

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.gates)

    def gates_json(self) -> list[dict]:
        return [
            {"gate": g.gate, "passed": g.passed, "reasons": list(g.reasons)} for g in self.gates
        ]

    def required_json(self) -> list[dict]:
        return [
            {
                "step": r.step,
                "group": r.group,
                "rules": [f.rule.name for f in r.fired],
                "reasons": r.reasons,
            }
            for r in self.required
        ]


def active_rules() -> list[policy.Rule]:
    rows = list(ApprovalRule.objects.filter(active=True).select_related("group"))
    # The M2M codes as plain pairs, one query each: prefetch_related builds a manager and a
    # model instance per link, half of an evaluation's time for a dozen rules.
    codes = {}
    for name, field in (("patterns", "dealpattern"), ("clause_types", "clausetype")):
        through = getattr(ApprovalRule, name).through
        by_rule = defaultdict(set)
        for rule_id, code in through.objects.filter(
            approvalrule_id__in=[row.pk for row in rows]
        ).values_list("approvalrule_id", f"{field}__code"):
            by_rule[rule_id].add(code)
        codes[name] = by_rule
    return [
        row.as_rule(
            patterns=frozenset(codes["patterns"][row.pk]),
            clause_types=frozenset(codes["clause_types"][row.pk]),
        )
        for row in rows
    ]


def evaluate(deal: Deal, version: ContractVersion) -> Evaluation:
    """Gates and policy for `version`, in a fixed number of queries whatever the line count.

    Lines, prices and clauses come from the version's frozen snapshot (what is approved);
    the catalog, the CRM's account and the rates are read as they stand now.
    """
    snapshot = version.typed_snapshot
    lines = snapshot.lines
    products = {p.sku: p for p in Product.objects.filter(sku__in={line.sku for line in lines})}
    clause_types = {c.code: c for c in ClauseType.objects.prefetch_related("required_by_patterns")}
    account = deal.account
    labels = [f"line {i} ({line.sku})" for i, line in enumerate(lines, start=1)]

    signer = snapshot.signer
    customer = gates.customer_verified(
        gates.CustomerFacts(
            contract=gates.Party(
                snapshot.account.crm_id, snapshot.account.legal_name, snapshot.account.address
            ),
            crm=gates.Party(account.crm_id, account.legal_name, account.billing_address),
            signer_name=signer.name if signer else "",
            signer_email=signer.email if signer else "",
        )
    )
    currency = snapshot.currency
    billable_lines = []
    priced_lines = []
    for label, line in zip(labels, lines, strict=True):
        product = products.get(line.sku)
        billable_lines.append(
            gates.BillableLine(
                label=label,
                in_catalog=product is not None,
                active=bool(product and product.active),
                billing_complete=bool(product and product.is_billing_complete),
                catalog_currency=product.currency if product else "",
                segment_index=line.segment,
            )
        )
        priced_lines.append(
            gates.PricedLine(
                label=label,
                discount_pct=line.discount_pct,
                net_unit_price=line.net_unit_price,
                floor_price=product.floor_price if product else None,
            )
        )
    billable = gates.billable(
        gates.BillableFacts(
            currency=currency,
            term_months=snapshot.deal.term_months,
            lines=billable_lines,
            # Salesforce's TotalPrice per line, rounded, summed: dealdesk.pricing's lines_total.
            priced_amount=snapshot.pricing.lines_total,
            crm_amount=deal.crm_amount,
            tcv=snapshot.pricing.tcv,
            free_months=pricing_clause_terms([(c.type, c.params) for c in snapshot.clauses]).get(
                "free_months", 0
            ),
        )
    )
    clauses = [gates.Clause(c.type, c.params) for c in snapshot.clauses]
    present = {c.type for c in clauses}
    banned = frozenset(code for code, ct in clause_types.items() if ct.banned)
    pattern = snapshot.pattern.code
    terms = gates.terms_compliance(
        gates.TermsFacts(
            pattern=pattern,
            clauses=clauses,
            banned_types=banned,
            required_types=frozenset(
                code
                for code, ct in clause_types.items()
                if pattern in {p.code for p in ct.required_by_patterns.all()}
            ),
            # Legal is still reading this version: a banned clause is theirs to remove (they
            # cannot approve the version with it), so it is not a hard failure yet.
            legal_exceptions=banned if version.state == ContractState.LEGAL_REVIEW else frozenset(),
        )
    )
    tcv = snapshot.pricing.tcv
    discount, where = gates.max_discount(priced_lines)
    net_days = next(
        (c.params.get("net_days") for c in clauses if c.type == "payment_terms"),
        snapshot.deal.payment_terms,
    )
    facts = policy.PolicyFacts(
        currency=currency,
        tcv=tcv,
        tcv_in_policy_currency=in_policy_currency(tcv, deal.currency),
        max_discount_pct=discount,
        max_discount_line=where,
        lines_below_floor=gates.lines_below_floor(priced_lines),
        term_months=snapshot.deal.term_months,
        payment_net_days=int(net_days or 0),
        pattern=pattern,
        clause_types=frozenset(present),
        banned_clause_types=frozenset(present & banned),
        review_clause_types=review_clause_types(snapshot),
        clause_titles={code: clause_type.title for code, clause_type in clause_types.items()},
    )
    fired = policy.evaluate(active_rules(), facts)
    required = policy.required_approvals(fired)
    pricing = gates.pricing_tier(priced_lines, [f"{r.group} (step {r.step})" for r in required])
    return Evaluation(gates=[customer, billable, pricing, terms], fired=fired, required=required)


def in_policy_currency(amount: Decimal, currency: str) -> Decimal | None:
    """`amount` at Finance's policy exchange rate (in POLICY_CURRENCY); None when Finance has
    set no rate for `currency`."""
    rate = PolicyExchangeRate.objects.filter(currency=currency).first()
    return amount * rate.usd_per_unit if rate else None


def latest_gate_run(version: ContractVersion) -> GateRun | None:
    return GateRun.objects.filter(
        contract_version=version, content_hash=version.content_hash
    ).first()


def deal_requests(*, deal_id: int) -> list[ApprovalRequest]:
    return list(
        ApprovalRequest.objects.filter(deal_id=deal_id)
        .select_related("group", "decided_by", "delegate_for", "contract_version")
        .order_by("-contract_version__number", "step", "group__name")
    )


def acting_groups(user: AbstractBaseUser) -> dict[int, str]:
    """The user's groups and the groups they are a delegate for right now: id → name."""
    delegated = ApprovalDelegation.objects.in_force(user).values("group_id")
    groups = Group.objects.filter(Q(user=user) | Q(pk__in=delegated)).distinct()
    return dict(groups.order_by("name").values_list("pk", "name"))


def groups_acting_for(user: AbstractBaseUser) -> set[int]:
    """Ids of the user's groups and of the groups they are a delegate for right now."""
    return set(acting_groups(user))


def open_request_count(*, user: AbstractBaseUser) -> int:
    """How many requests wait in the user's My approvals (the navigation's count)."""
    return approval_queue(user=user)[0].count()


# --- who may decide ------------------------------------------------------------------------


@dataclass(frozen=True)
class DeciderFacts:
    """What settles whether one person may decide some requests, read once for all of them."""

    acting_group_ids: frozenset[int]
    # Requests that segregation of duties may bar them from (they own the deal, edited its
    # terms, its owner is unmapped, or they decided another step of it): only these get the
    # full check, with its queries; for the others it is known to pass.
    suspect_request_ids: frozenset[int]


def decider_suspect(user: AbstractBaseUser) -> Q:
    """The requests segregation of duties may bar `user` from (see DeciderFacts)."""
    edited = DealTermsEdit.objects.filter(deal=OuterRef("deal"), editor=user)
    decided_a_step = ApprovalRequest.objects.filter(
        Q(decided_by=user) | Q(delegate_for=user),
        contract_version=OuterRef("contract_version"),
        content_hash=OuterRef("content_hash"),
        state__in=[R.APPROVED, R.REJECTED],
    )
    return (
        Q(deal__owner=user)
        | Q(deal__terms_edited_by=user)
        | Q(deal__owner__username=settings.CRM_SYNC_USERNAME)
        | Q(Exists(edited))
        | Q(Exists(decided_a_step))
    )


def decider_facts(
    *,
    user: AbstractBaseUser,
    requests: Collection[ApprovalRequest],
    acting_group_ids: Collection[int] | None = None,
) -> DeciderFacts:
    """DeciderFacts for `user` and `requests`, in one query whatever their number (two
    without `acting_group_ids`)."""
    suspects = (
        ApprovalRequest.objects.filter(pk__in=[request.pk for request in requests])
        .filter(decider_suspect(user))
        .order_by()
        .values_list("pk", flat=True)
    )
    return DeciderFacts(
        acting_group_ids=frozenset(
            groups_acting_for(user) if acting_group_ids is None else acting_group_ids
        ),
        suspect_request_ids=frozenset(suspects),
    )


def check_may_decide(
    *, request: ApprovalRequest, user: AbstractBaseUser, facts: DeciderFacts | None = None
) -> None:
    """Raise PermissionDenied (SegregationOfDutiesError when it is about this deal) if `user`
    may not decide `request`. approval_request_decide asks this, and the pages ask it to hide
    buttons the server would refuse. Without `facts` (a decision) every check runs; with
    facts read in bulk (a page of rows) only on the requests they single out."""
    acting = groups_acting_for(user) if facts is None else facts.acting_group_ids
    if request.group_id not in acting:
        raise PermissionDenied(f"only {request.group.name} decides this request")
    if facts is not None and request.pk not in facts.suspect_request_ids:
        return
    check_segregation_of_duties(user=user, deal=request.deal)
    # A chain of approvals is worth as many people as it has steps: whoever decided (or had
    # a delegate decide for them) one request on this content decides no other.
    decided = (
        ApprovalRequest.objects.filter(
            Q(decided_by=user) | Q(delegate_for=user),
            contract_version_id=request.contract_version_id,
            content_hash=request.content_hash,
            state__in=[R.APPROVED, R.REJECTED],
        )
        .values_list("group__name", flat=True)
        .first()
    )
    if decided is not None:
        raise SegregationOfDutiesError(
            f"{user} already decided the {decided} step of deal {request.deal_id}: "
            "each step of a deal's approvals needs a different person"
        )


def decision_refusals(
    *,
    user: AbstractBaseUser,
    requests: Collection[ApprovalRequest],
    acting_group_ids: Collection[int] | None = None,
    facts: DeciderFacts | None = None,
) -> dict[int, str]:
    """Request id → why `user` may not decide that open request, for the ones they may not.
    `facts` when the caller read them with its rows (My approvals: see queue_rows)."""
    facts = facts or decider_facts(user=user, requests=requests, acting_group_ids=acting_group_ids)
    # Requests of one group on one content get one answer: asked once (a suspect's full
    # check costs queries, and a deal's steps often share a page).
    answers: dict[tuple, str] = {}
    refusals = {}
    for request in requests:
        key = (request.group_id, request.deal_id, request.contract_version_id, request.content_hash)
        if key not in answers:
            try:
                check_may_decide(request=request, user=user, facts=facts)
                answers[key] = ""
            except PermissionDenied as exc:
                answers[key] = str(exc)
        if answers[key]:
            refusals[request.pk] = answers[key]
    return refusals


def decider_missing(request: ApprovalRequest) -> str:
    """Why nobody may decide this open request ("" when someone may): each member of its
    group and each delegate in force is asked check_may_decide, first yes wins. For the
    deal page's few requests; a group is a handful of people."""
    # Delegates not in force yet are asked too: check_may_decide refuses them, as it would.
    delegates = ApprovalDelegation.objects.not_over().filter(group=request.group_id)
    candidates = get_user_model().objects.filter(
        Q(groups=request.group_id) | Q(pk__in=delegates.values("delegate_id")), is_active=True
    )
    refusals = []
    for user in candidates.distinct().order_by("username"):
        try:
            check_may_decide(request=request, user=user)
        except SegregationOfDutiesError as exc:
            refusals.append(str(exc))
        except PermissionDenied:
            continue  # a delegation not in force yet: not a person to wait for
        else:
            return ""
    return "; ".join(refusals) or f"nobody is in {request.group.name}"


# My approvals: ?sort=key or -key → column. "requested" ascending is oldest first.
QUEUE_SORTS = {
    "requested": "created_at",
    "tcv": "deal__tcv",
    "discount": "deal__effective_discount_pct",
}
DEFAULT_QUEUE_SORT = "requested"
QUEUE_ROW_FIELDS = [
    "created_at",
    "step",
    "reasons",
    "state",
    "group__name",
    "contract_version__number",
    # FSM models read their state on load (ConcurrentTransitionMixin): deferring it costs
    # a query per row.
    "contract_version__state",
    "deal__state",
    "deal__name",
    "deal__crm_id",
    "deal__currency",
    "deal__tcv",
    "deal__effective_discount_pct",
    "deal__account__name",
    # What check_segregation_of_duties reads on a suspect row.
    "deal__owner",
    "deal__terms_edited_by",
    "contract_version_id",
    "content_hash",
    "group_id",
]


def approval_queue(
    *,
    user: AbstractBaseUser,
    groups: Collection[int] | None = None,
    group: int | None = None,
    q: str = "",
    min_tcv: Decimal | None = None,
    sort: str = DEFAULT_QUEUE_SORT,
) -> tuple[QuerySet[ApprovalRequest], str]:
    """Open requests for the user's groups (and groups they stand in for), filtered, in the
    whitelisted `sort` (oldest first by default), and the sort applied. `groups` is the
    user's acting group ids when the caller has them already; `group` narrows to one of
    them (any other group is ignored: nobody sees another group's queue). Rows carry no
    joins: page through ids, then load one page with `queue_rows`."""
    acting = set(groups_acting_for(user) if groups is None else groups)
    if group in acting:
        acting = {group}
    requests = ApprovalRequest.objects.filter(state=R.PENDING, group__in=sorted(acting))
    if q:
        requests = requests.filter(
            Q(deal__name__icontains=q)
            | Q(deal__account__name__icontains=q)
            | Q(deal__crm_id__iexact=q)
        )
    if min_tcv is not None:
        requests = requests.filter(deal__tcv__gte=min_tcv)
    return sorted_by(requests, sort=sort, sorts=QUEUE_SORTS, default=DEFAULT_QUEUE_SORT)


def queue_rows(*, ids: list[int], decider: AbstractBaseUser) -> list[ApprovalRequest]:
    """My approvals' rows for these request ids, in this order, with what a row shows, each
    marked `decider_suspect` when segregation of duties may bar `decider` from it."""
    rows = (
        ApprovalRequest.objects.filter(pk__in=ids)
        .select_related("group", "deal", "deal__account", "contract_version")
        .prefetch_related("contract_version__gate_runs")
        # Only the columns a row shows: a version carries its snapshot (every line of the
        # deal) and its DOCX and PDF, 25 copies of which cost the page more than the rest.
        .only(*QUEUE_ROW_FIELDS)
        # The discount an approver weighs is the line's, the one the pricing gate names,
        # not the deal's blended one (a 40 % line in a big deal blends to a few percent).
        .annotate(
            line_discount_pct=_top_discount_line("discount_pct"),
            line_discount_sku=_top_discount_line("product__sku"),
            # DeciderFacts read with the rows: a page pays no query of its own for them.
            decider_suspect=ExpressionWrapper(decider_suspect(decider), BooleanField()),
        )
        .in_bulk()
    )
    return [rows[pk] for pk in ids]


def _top_discount_line(field: str) -> Subquery:
    """`field` of the row's deal's most discounted line (the first of equals, as the gate)."""
    return Subquery(
        DealLine.objects.filter(deal=OuterRef("deal"))
        .order_by("-discount_pct", "segment_index", "pk")
        .values(field)[:1]
    )


def explanation(deal: Deal) -> dict:
    """The answer to "why does this deal need the CFO?": what explain_approvals prints and
    the deal page shows. Gates and rules as stored for the current version when evaluated
    (what the requests were opened from), else as the policy stands now."""
    version = current_version(deal)
    result: dict = {
        "deal": {"id": deal.pk, "crm_id": deal.crm_id, "name": deal.name, "state": deal.state},
        "contract_version": None,
        "gates": [],
        "fired_rules": [],
        "requests": [],
    }
    if version is not None:
        result["contract_version"] = {
            "number": version.number,
            "state": version.state,
            "content_hash": version.content_hash,
        }
        run = latest_gate_run(version)
        if run is not None:
            result["evaluated_at"] = run.created_at.isoformat()
            result["gates"] = run.gates
            result["fired_rules"] = run.required
        else:
            live = evaluate(deal, version)
            result["evaluated_at"] = None
            result["gates"] = live.gates_json()
            result["fired_rules"] = live.required_json()
    result["requests"] = [
        {
            "id": r.pk,
            "contract_version": r.contract_version.number,
            "step": r.step,
            "group": r.group.name,
            "state": r.state,
            "rules": r.rule_names,
            "reasons": r.reasons,
            "decided_by": r.decided_by.get_username() if r.decided_by else None,
            "delegate_for": r.delegate_for.get_username() if r.delegate_for else None,
            "decided_at": r.decided_at.isoformat() if r.decided_at else None,
            "reason": r.reason,
        }
        for r in deal_requests(deal_id=deal.pk)
    ]
    return result


def _flat(snapshot: ContractSnapshot) -> dict[str, str]:
    """The approved values of a snapshot, one label each, for comparing two versions."""
    values = {
        "deal term_months": str(snapshot.deal.term_months),
        "deal payment_terms": str(snapshot.deal.payment_terms),
        "pricing tcv": str(snapshot.pricing.tcv),
        "pricing acv": str(snapshot.pricing.acv),
    }
    for i, line in enumerate(snapshot.lines, start=1):
        values[f"line {i} sku"] = line.sku
        # Decimals read from the JSON keep their exponent: shown as stored ("10.0000").
        values[f"line {i} quantity"] = str(line.quantity)
        values[f"line {i} discount_pct"] = str(line.discount_pct)
        values[f"line {i} net_unit_price"] = str(line.net_unit_price)
    for clause in snapshot.clauses:
        values[f"clause {clause.type}"] = json.dumps(clause.params, sort_keys=True)
    return values


def snapshot_changes(
    old: ContractSnapshot, new: ContractSnapshot
) -> list[tuple[str, str | None, str | None]]:
    """(what, approved value, value now) for every approved value that differs."""
    before, after = _flat(old), _flat(new)
    return [
        (key, before.get(key), after.get(key))
        for key in sorted(before.keys() | after.keys())
        if before.get(key) != after.get(key)
    ]


def reapproval_changes(request: ApprovalRequest) -> list[tuple[str, str | None, str | None]]:
    """What changed since the group last granted this deal an approval that was superseded."""
    granted = (
        ApprovalRequest.objects.filter(
            deal_id=request.deal_id,
            group_id=request.group_id,
            state=R.SUPERSEDED,
            decided_by__isnull=False,
        )
        .exclude(contract_version_id=request.contract_version_id)
        .select_related("contract_version")
        .order_by("-contract_version__number")
        .first()
    )
    if granted is None:
        return []
    return snapshot_changes(
        granted.contract_version.typed_snapshot, request.contract_version.typed_snapshot
    )


def delegations_of(*, user: AbstractBaseUser) -> tuple[list, list]:
    """(given, received): the user's delegations running or to come, for My approvals, in
    one query."""
    current = (
        ApprovalDelegation.objects.not_over()
        .filter(Q(delegator=user) | Q(delegate=user))
        .select_related("delegator", "delegate", "group", "created_by")
    )
    given, received = [], []
    for delegation in current:
        (given if delegation.delegator_id == user.pk else received).append(delegation)
    return given, received
