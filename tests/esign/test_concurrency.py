"""The same signing form sent twice at once (a double click, two tabs): one signature."""

import threading

import pytest
from django.db import connection

from audit.models import AuditEvent
from contracts.esign import services
from contracts.esign.models import SignatureRequest
from contracts.esign.tokens import LinkRefused, signing_token


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_submits_at_once_sign_once(out_for_signature):
    deal = out_for_signature()
    customer = SignatureRequest.objects.get(deal=deal).signers.get(role="customer")
    token = signing_token(customer)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def submit():
        try:
            barrier.wait()
            services.signer_sign(
                token=token,
                typed_name="Jordan Signer",
                consented=True,
                drawn_signature=None,
                ip="192.0.2.1",
                user_agent="double-click",
            )
            outcomes.append("ok")
        except LinkRefused as refused:
            outcomes.append(f"refused: {refused.why}")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["ok", "refused: signed"]
    assert AuditEvent.objects.filter(action="signer.signed").count() == 1
