"""The same signing form sent twice at once (a double click, two tabs): one signature."""

import pytest

from audit.models import AuditEvent
from contracts.esign import services
from contracts.esign.models import SignatureRequest
from contracts.esign.tokens import LinkRefused, signing_token
from tests.concurrency import at_once, raised


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_submits_at_once_sign_once(out_for_signature):
    deal = out_for_signature()
    customer = SignatureRequest.objects.get(deal=deal).signers.get(role="customer")
    token = signing_token(customer)

    def submit():
        services.signer_sign(
            token=token,
            typed_name="Jordan Signer",
            consented=True,
            drawn_signature=None,
            ip="192.0.2.1",
            user_agent="double-click",
        )
        return "ok"

    outcomes = at_once(submit, submit)
    (refused,) = raised(outcomes)
    assert isinstance(refused, LinkRefused)
    assert (outcomes.count("ok"), refused.why) == (1, "signed")
    assert AuditEvent.objects.filter(action="signer.signed").count() == 1
