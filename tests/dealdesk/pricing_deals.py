"""A won deal whose notes give a free period, for the pricing tests of pages and documents."""

from datetime import date
from decimal import Decimal

from dealdesk.models import Deal, Product
from dealdesk.services import ContactSpec, DealSpec, LineSpec, deal_create
from tests.dealdesk.factories import AccountFactory, ContactFactory, ProductFactory, UserFactory

# 3,825.00 a month for 12 months from 2027-01-01, billed monthly, first 2 months free:
# 10 billed months, TCV 38,250.00; the list value of the year is 45,900.00.
MONTHLY = Decimal("3825.00")
FREE_PERIOD_NOTES = "First 2 months free. Net 30, standard paper."


def free_period_deal_spec(*, crm_amount: Decimal = MONTHLY) -> DealSpec:
    """The deal as the CRM sends it; its Amount is by default the lines' TotalPrice."""
    account = AccountFactory(legal_name="Fjord Freight AS")
    signer = ContactFactory(account=account, name="Ingrid Signer", title="CFO")
    product = Product.objects.filter(sku="PLAT-MONTHLY").first() or ProductFactory(
        sku="PLAT-MONTHLY",
        name="Platform, billed monthly",
        billing_interval="month",
        list_price=MONTHLY,
        floor_price=Decimal("3000"),
    )
    return DealSpec(
        crm_id=f"006F{account.pk:011d}",
        name="Fjord Freight — First year free months",
        account=account,
        owner=UserFactory(roles=["Sales"]),
        start_date=date(2027, 1, 1),
        term_months=12,
        billing_frequency="monthly",
        payment_terms=30,
        ae_notes=FREE_PERIOD_NOTES,
        crm_amount=crm_amount,
        lines=[LineSpec(product, Decimal(1))],
        contacts=[ContactSpec(signer, "Signer", True)],
    )


def create_free_period_deal(actor, **spec) -> Deal:
    """Through the real pipeline: priced, classified, drafted (clauses extracted), reviewed.
    The caller runs the on-commit steps (a transactional test, or the capture fixture)."""
    return deal_create(spec=free_period_deal_spec(**spec), actor=actor)
