"""Billing tests run a won deal through the real pipeline — drafted, approved, signed on the
local backend — into billing (the e-signature fixtures, without their stop at Deal:signed)."""

import pytest

from tests.esign.conftest import (
    _seal_and_mail,
    approve,
    approvers,
    countersigner,
    media_root,
    new_deal,
    out_for_signature,
    sign,
    won_deal,
)

# What a test module outside this folder imports with `from tests.billing.conftest import *`.
__all__ = [
    "_seal_and_mail",
    "approve",
    "approvers",
    "countersigner",
    "issued_invoice",
    "media_root",
    "new_deal",
    "out_for_signature",
    "sign",
    "signed_deal",
    "won_deal",
]


@pytest.fixture
def signed_deal(out_for_signature, sign):
    """signed_deal(**fields) → a deal every party signed; the pipeline runs on into billing."""

    def make(**fields):
        from contracts.esign.models import Signer

        deal = out_for_signature(**fields)
        while signer := Signer.objects.filter(request__deal=deal, state="notified").first():
            sign(signer)
        deal.refresh_from_db()
        return deal

    return make


@pytest.fixture
def issued_invoice(signed_deal):
    """issued_invoice(**fields) → the first invoice of a deal billed on the local ledger, issued
    and mailed (the deal is `invoiced`)."""

    def make(**fields):
        from billing.models import Invoice

        deal = signed_deal(**fields)
        return Invoice.objects.select_related("deal", "record").get(deal=deal, plan_index=1)

    return make
