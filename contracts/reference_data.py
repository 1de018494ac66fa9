"""Clause library, version 1 of every pattern's template, and who may do what with contracts.

Used by the data migration (historical models) and by seed_demo (live models); idempotent.
"""

from django.apps.registry import Apps

from contracts.clause_library import CLAUSE_LIBRARY
from contracts.document_templates import order_form_docx, order_form_html
from dealdesk.patterns import CUSTOM_TERMS, ENTERPRISE_MSA, MULTI_PRODUCT, MULTI_YEAR_RAMP, SIMPLE
from dealdesk.reference_data import create_app_permissions, grant_role_permissions

TEMPLATE_TITLES = {
    SIMPLE: "Order Form",
    MULTI_PRODUCT: "Order Form",
    MULTI_YEAR_RAMP: "Multi-Year Order Form",
    CUSTOM_TERMS: "Order Form with Special Terms",
    ENTERPRISE_MSA: "Enterprise Order Form",
}
_VIEW = [
    "contracts.view_clausetype",
    "contracts.view_contracttemplate",
    "contracts.view_contractversion",
    "contracts.view_clausedecision",
]
ROLE_PERMISSIONS = {
    "Legal": [
        *_VIEW,
        "contracts.review_contract",
        "contracts.change_clausetype",
        "contracts.add_contracttemplate",
    ],
    # Legal's lead approves template versions too: granted per user in the admin (Users →
    # permissions), since the rest of Legal publishes them and must not approve their own.
    "Deal Desk": [*_VIEW, "contracts.approve_contracttemplate"],
    "Finance": _VIEW,
    "Executive": _VIEW,
}


def install_contract_reference_data(apps: Apps) -> None:
    create_app_permissions(apps, apps.get_app_config("contracts"))

    ClauseType = apps.get_model("contracts", "ClauseType")
    ContractTemplate = apps.get_model("contracts", "ContractTemplate")
    DealPattern = apps.get_model("dealdesk", "DealPattern")

    patterns = {p.code: p for p in DealPattern.objects.all()}
    for position, row in enumerate(CLAUSE_LIBRARY):
        code, title, wording, banned, review, group, required, defaults = row
        clause_type, created = ClauseType.objects.get_or_create(
            code=code,
            defaults={
                "title": title,
                "wording": wording,
                "banned": banned,
                "needs_legal_review": review,
                "approval_group": group,
                "default_params": defaults,
                "position": position,
            },
        )
        if created:
            clause_type.required_by_patterns.set([patterns[c] for c in required if c in patterns])

    # The shipped version is approved by shipping; 0002's model predates the state (0005 adds
    # it, approving the rows made here), while seed_demo and tests run this on today's model.
    shipped = {"state": "approved"} if _has_field(ContractTemplate, "state") else {}
    docx, html = None, None
    for code, pattern in patterns.items():
        if ContractTemplate.objects.filter(pattern=pattern).exists():
            continue
        docx, html = docx or order_form_docx(), html or order_form_html()
        ContractTemplate.objects.create(
            pattern=pattern,
            version=1,
            title=TEMPLATE_TITLES.get(code, "Order Form"),
            docx=docx,
            docx_filename="order-form-v1.docx",
            html=html,
            note="Shipped with Dealdesk.",
            **shipped,
        )

    grant_role_permissions(apps, ROLE_PERMISSIONS)


def _has_field(model, name: str) -> bool:
    return any(field.name == name for field in model._meta.get_fields())
