"""Billing tests run a won deal through the real pipeline — drafted, approved, signed on the
local backend — into billing (the e-signature fixtures, without their stop at Deal:signed)."""

import pytest

from tests.esign.conftest import (  # noqa: F401
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


@pytest.fixture
def signed_deal(out_for_signature, sign):  # noqa: F811
    """signed_deal(**fields) → a deal every party signed; the pipeline runs on into billing."""

    def make(**fields):
        from contracts.esign.models import Signer

        deal = out_for_signature(**fields)
        while signer := Signer.objects.filter(request__deal=deal, state="notified").first():
            sign(signer)
        deal.refresh_from_db()
        return deal

    return make
