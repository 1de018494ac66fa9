from decimal import Decimal

import pytest

from approvals.models import ApprovalRule
from dealdesk.models import Product
from tests.contracts.conftest import media_root, new_deal  # noqa: F401  (the real pipeline)
from tests.dealdesk.factories import ProductFactory

# The won deal of tests/contracts: platform at 10 % off, 100 then 150 seats at 45.
CRM_AMOUNT = Decimal(36000) * Decimal("0.9") + Decimal(45) * 250


@pytest.fixture
def won_deal(new_deal):  # noqa: F811
    """won_deal(**fields) → a deal the CRM priced consistently, run through the pipeline."""
    for sku, name, interval, price, floor in (
        ("SEAT-STD", "Standard user seat", "month", 45, 40),
        ("PLAT-GROWTH", "Platform — Growth tier", "year", 36000, 30000),
    ):
        if not Product.objects.filter(sku=sku).exists():
            ProductFactory(
                sku=sku,
                name=name,
                billing_interval=interval,
                list_price=Decimal(price),
                floor_price=Decimal(floor),
            )

    def make(**fields):
        fields.setdefault("crm_amount", CRM_AMOUNT)
        return new_deal(**fields)

    return make


@pytest.fixture
def vp_sales_above_5(db):
    """Finance lowers the VP Sales tier so the won deal's 10 % discount needs an Executive."""
    rule = ApprovalRule.objects.get(name="VP Sales: discount above 20 %")
    rule.discount_pct_above = Decimal(5)
    rule.save()
    return rule


@pytest.fixture
def approvers(make_user):
    return {
        role: make_user(role, username=role.lower().replace(" ", "_"), email=f"{role[:3]}@x.test")
        for role in ("Deal Desk", "Legal", "Finance", "Executive")
    }
