"""Deal Desk's signature screens on deals run through the real pipeline to the local backend
(tests/esign/conftest.py: a won deal, Legal's approval, one countersigner)."""

import pytest

from tests.esign.conftest import (  # noqa: F401  (the lead's e-signature fixtures)
    _seal_and_mail,
    _stop_at_signed,
    approve,
    approvers,
    countersigner,
    media_root,
    new_deal,
    out_for_signature,
    sign,
    won_deal,
)


@pytest.fixture(autouse=True)
def stop_before_approvals():
    """tests/contracts stops the flow before approvals; these screens need all of it."""


@pytest.fixture
def desk(make_user):
    return make_user("Deal Desk", username="dora", first_name="Dora", last_name="Desk")
