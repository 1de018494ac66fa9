"""The default approval matrix, policy exchange rates and who may do what with approvals.

Used by the data migration (historical models) and by seed_demo (live models); idempotent:
rows that exist are left as Finance edited them.
"""

from decimal import Decimal

from django.apps.registry import Apps

from approvals.default_policy import DEFAULT_RULES
from dealdesk.reference_data import create_app_permissions, grant_role_permissions

# Demo rates (USD per unit); Finance keeps them current in the admin.
DEFAULT_RATES = {"USD": Decimal(1), "EUR": Decimal("1.08"), "GBP": Decimal("1.27")}
_VIEW = [
    "approvals.view_approvalrule",
    "approvals.view_policyexchangerate",
    "approvals.view_gaterun",
    "approvals.view_approvalrequest",
    "approvals.view_approvaldelegation",
]
_DECIDE = [*_VIEW, "approvals.decide_approvalrequest"]
ROLE_PERMISSIONS = {
    "Deal Desk": _DECIDE,
    "Legal": _DECIDE,
    "Executive": [*_DECIDE, "approvals.change_approvalrequest"],
    "CFO": [*_DECIDE, "approvals.change_approvalrequest"],
    "Finance": [
        *_DECIDE,
        "approvals.change_approvalrequest",
        *(
            f"approvals.{action}_{model}"
            for model in ("approvalrule", "policyexchangerate", "approvaldelegation")
            for action in ("add", "change")
        ),
    ],
}


def install_approval_reference_data(apps: Apps) -> None:
    create_app_permissions(apps, apps.get_app_config("approvals"))

    ApprovalRule = apps.get_model("approvals", "ApprovalRule")
    PolicyExchangeRate = apps.get_model("approvals", "PolicyExchangeRate")
    ClauseType = apps.get_model("contracts", "ClauseType")
    Group = apps.get_model("auth", "Group")

    for currency, rate in DEFAULT_RATES.items():
        PolicyExchangeRate.objects.get_or_create(currency=currency, defaults={"usd_per_unit": rate})
    for rule in DEFAULT_RULES:
        row, created = ApprovalRule.objects.get_or_create(
            name=rule.name,
            defaults={
                "step": rule.step,
                "group": Group.objects.get(name=rule.group),
                "discount_pct_above": rule.discount_pct_above,
                "tcv_above": rule.tcv_above,
                "term_months_above": rule.term_months_above,
                "payment_net_days_above": rule.payment_net_days_above,
                "any_banned_clause": rule.any_banned_clause,
                "any_review_clause": rule.any_review_clause,
                "below_floor": rule.below_floor,
            },
        )
        if created and rule.clause_types:
            row.clause_types.set(ClauseType.objects.filter(code__in=rule.clause_types))
    grant_role_permissions(apps, ROLE_PERMISSIONS)
