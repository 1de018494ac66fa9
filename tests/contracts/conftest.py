from datetime import date
from decimal import Decimal

import pytest

from dealdesk.models import Product
from dealdesk.services import ContactSpec, DealSpec, LineSpec, deal_create
from tests.dealdesk.factories import AccountFactory, ContactFactory, ProductFactory, UserFactory


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


APPROVAL_STEPS = [
    ("dealdesk.deal", "in_review"),
    ("approvals.approvalrequest", "approved"),
    ("approvals.approvalrequest", "rejected"),
    ("contracts.contractversion", "approved"),
    ("contracts.contractversion", "superseded"),
]


@pytest.fixture(autouse=True)
def stop_before_approvals(monkeypatch):
    """These tests are about drafting and legal review: the flow stops before approvals
    (tests/approvals runs it end to end), so a deal stays in review for Legal to act on."""
    from dealdesk import pipeline

    for key in APPROVAL_STEPS:
        monkeypatch.delitem(pipeline.NEXT_STEP, key)


@pytest.fixture
def new_deal(db, pipeline_user, django_capture_on_commit_callbacks):
    """new_deal(notes=..., legal_name=...) runs a won deal through the real pipeline."""

    def make(
        notes: str = "Net 60, PO required (PO-4471) on all invoices",
        legal_name: str = "Acme Logistics, Inc.",
        **fields,
    ):
        account = AccountFactory(legal_name=legal_name)
        signer = ContactFactory(account=account, name="Jordan Signer", title="General Counsel")
        seat = Product.objects.filter(sku="SEAT-STD").first() or ProductFactory(
            sku="SEAT-STD",
            name="Standard user seat",
            billing_interval="month",
            list_price=Decimal(45),
        )
        platform = Product.objects.filter(sku="PLAT-GROWTH").first() or ProductFactory(
            sku="PLAT-GROWTH", name="Platform — Growth tier", list_price=Decimal(36000)
        )
        spec = DealSpec(
            crm_id=fields.pop("crm_id", f"006T{account.pk:011d}"),
            name=fields.pop("name", f"{account.name} — New business"),
            account=account,
            owner=UserFactory(roles=["Sales"]),
            start_date=date(2026, 1, 1),
            term_months=fields.pop("term_months", 24),
            billing_frequency=fields.pop("billing_frequency", "annual"),
            ae_notes=notes,
            lines=[
                LineSpec(platform, Decimal(1), Decimal(10)),
                LineSpec(seat, Decimal(100), segment_index=1),
                LineSpec(seat, Decimal(150), segment_index=2),
            ],
            contacts=[ContactSpec(signer, "Signer", True)],
            **fields,
        )
        with django_capture_on_commit_callbacks(execute=True):
            deal = deal_create(spec=spec, actor=pipeline_user)
        deal.refresh_from_db()
        return deal

    return make


@pytest.fixture
def legal_user(make_user):
    return make_user("Legal", username="lee", is_staff=True)
