"""An approved deal on its way to signature: the real pipeline from a won deal, Legal's
approval, and a signing authority table with one countersigner."""

import pytest

from contracts import services as contracts
from contracts.esign import services as esign
from contracts.esign.models import Signer, SigningAuthority
from contracts.esign.tokens import signing_token
from contracts.selectors import current_version
from tests.approvals.conftest import approvers, won_deal  # noqa: F401
from tests.contracts.conftest import media_root, new_deal  # noqa: F401


@pytest.fixture(autouse=True)
def _seal_and_mail(settings, tmp_path):
    settings.ESIGN_DEV_SEAL_DIR = tmp_path / "seal"
    settings.ESIGN_BACKEND = "local"
    settings.ESIGN_ROUTING_ORDER = "customer_first"
    settings.SITE_URL = "http://testserver"


@pytest.fixture(autouse=True)
def _stop_at_signed(monkeypatch):
    """E-signature ends at Deal:signed: these tests stop the flow there (tests/billing runs it
    on into billing and invoices)."""
    from dealdesk import pipeline

    monkeypatch.delitem(pipeline.NEXT_STEP, ("dealdesk.deal", "signed"))


@pytest.fixture
def countersigner(make_user):
    user = make_user(
        "Finance", username="cara", first_name="Cara", last_name="Chen", email="cara@dealdesk.test"
    )
    SigningAuthority.objects.create(user=user, title="Chief Financial Officer", max_tcv=None)
    return user


@pytest.fixture
def approve(approvers, django_capture_on_commit_callbacks):  # noqa: F811
    """approve(deal) → Legal approves its contract; the pipeline runs on from there."""

    def run(deal):
        with django_capture_on_commit_callbacks(execute=True):
            contracts.contract_approve(
                version_id=current_version(deal).pk, actor=approvers["Legal"]
            )
        deal.refresh_from_db()
        return deal

    return run


@pytest.fixture
def out_for_signature(won_deal, approve, countersigner):  # noqa: F811
    """A won deal, approved, sent for signature on the local backend."""

    def make(**fields):
        return approve(won_deal(**fields))

    return make


@pytest.fixture
def sign(django_capture_on_commit_callbacks):
    """sign(signer) → the signer signs through their link (read afresh: its current state and
    link secret); the pipeline runs on."""

    def run(signer, *, name: str | None = None, ip="203.0.113.7", user_agent="pytest"):
        signer = Signer.objects.get(pk=signer.pk)
        with django_capture_on_commit_callbacks(execute=True):
            return esign.signer_sign(
                token=signing_token(signer),
                typed_name=name or signer.name,
                consented=True,
                drawn_signature=None,
                ip=ip,
                user_agent=user_agent,
            )

    return run
