from io import StringIO

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import F

from approvals.models import ApprovalRequest, GateRun
from dealdesk.models import Deal, DealLine, Product
from dealdesk.roles import Role


def _row_counts() -> dict[str, int]:
    return {m._meta.label: m.objects.count() for m in apps.get_models() if m._meta.managed}


def test_seed_demo_builds_a_realistic_company_and_a_second_run_changes_nothing(
    db, capsys, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo")
    call_command("demo_users")  # what `make run` prints after seeding and the CRM sync
    out = capsys.readouterr().out
    for role in Role:
        users = get_user_model().objects.filter(groups__name=role)
        assert users.exists()
        for user in users:
            assert user.username in out
            assert user.check_password("dealdesk-demo")
    assert "dealdesk-demo" in out
    assert Product.objects.count() >= 12
    assert set(Product.objects.values_list("kind", flat=True)) == {
        "subscription",
        "one_time",
        "usage",
    }
    assert Deal.objects.count() == 40
    states = set(Deal.objects.values_list("state", flat=True))
    assert len(states) >= 6
    assert {"drafting", "in_review", "approved", "manual_review", "cancelled"} <= states
    _assert_signature_demo(out)
    assert Deal.objects.exclude(ae_notes="").count() >= 30
    assert not Deal.objects.filter(state="drafting", pattern=None).exists()
    assert not DealLine.objects.exclude(product__currency=F("deal__currency")).exists()
    # Approvals: deals past review got there through passed gates and granted requests;
    # deals in review show what they wait for.
    past_review = Deal.objects.exclude(
        state__in=[
            "new",
            "drafting",
            "in_review",
            "changes_requested",
            "manual_review",
            "cancelled",
        ]
    )
    # 18 planned; an in_review deal that needs no approval and no legal review moves on.
    assert past_review.count() >= 18
    assert not ApprovalRequest.objects.filter(deal__in=past_review, state="pending").exists()
    assert ApprovalRequest.objects.filter(deal__in=past_review, state="approved").exists()
    gated = GateRun.objects.filter(contract_version__deal__in=past_review, passed=True)
    assert gated.values("contract_version__deal").distinct().count() == past_review.count()
    assert ApprovalRequest.objects.filter(deal__state="in_review", state="pending").exists()
    # Every approving role has something in My approvals; Finance's deal has Deal Desk's
    # step granted and waits on Finance alone.
    waiting = ApprovalRequest.objects.filter(deal__state="in_review", state="pending")
    for role in (Role.DEAL_DESK, Role.LEGAL, Role.FINANCE, Role.EXECUTIVE, Role.CFO):
        assert waiting.filter(group__name=role).exists(), role
    finance = waiting.get(group__name=Role.FINANCE)
    assert set(
        ApprovalRequest.objects.filter(deal=finance.deal_id).values_list("group__name", "state")
    ) == {(Role.DEAL_DESK, "approved"), (Role.FINANCE, "pending")}

    before = _row_counts()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo")
    assert _row_counts() == before


def _assert_billing_demo() -> None:
    """Signed deals billed on the local ledger in every state Finance works with."""
    from django.conf import settings

    from billing.models import ARItem, BillingRecord

    states = list(Deal.objects.values_list("state", flat=True))
    assert (states.count("billing"), states.count("invoiced"), states.count("paid")) == (1, 2, 1)
    for deal in Deal.objects.filter(state__in=["invoiced", "paid"]):
        first = deal.invoices.get(plan_index=1)  # issued, drawn and mailed
        assert first.state == ("paid" if deal.state == "paid" else "issued")
        assert first.pdf_sha256
    paid = BillingRecord.objects.get(deal__state="paid")
    assert paid.days_to_first_payment is not None
    (partial,) = ARItem.objects.all()
    assert (partial.reason, partial.state, partial.deal.state) == ("partial", "open", "invoiced")
    (stopped,) = BillingRecord.objects.filter(state="exception")
    assert "net 120" in stopped.problems[0]
    statement = (settings.VAR_DIR / "demo" / "bank-statement.csv").read_text()
    assert partial.invoice.number in statement


def _assert_signature_demo(out: str) -> None:
    """Deals out for signature with working links among what `make run` prints, and signed
    deals whose executed PDFs verify."""
    from django.utils import timezone

    from contracts.esign.tokens import signer_for_token

    assert Deal.objects.filter(state="out_for_signature").count() == 2
    past_signature = ["signed", "billing", "invoiced", "paid"]
    signed = list(Deal.objects.filter(state__in=past_signature).values_list("crm_id", flat=True))
    assert len(signed) == 6
    _assert_billing_demo()
    for crm_id in signed:
        verified = StringIO()
        call_command("verify_executed", crm_id, stdout=verified)  # raises if it fails
        assert "seal: ok" in verified.getvalue()
    links = out.split("Signing links (local e-signature)", 1)[1].split("\nOpen ", 1)[0]
    lines = [line for line in links.splitlines() if "http" in line]
    # One deal waits on its customer, the other (the customer signed) on our countersigner.
    assert ["(customer)" in lines[0], "(countersigner)" in lines[1]] == [True, True]
    assert len(lines) == 2
    for line in lines:
        # demo_users is called without --url here: its default is what `make run` serves.
        path = line.split("http://127.0.0.1:8000", 1)[1]
        signer = signer_for_token(path.rstrip("/").rsplit("/", 1)[1], now=timezone.now())
        assert signer.name in line
        assert signer.request.deal.crm_id in line


def test_demo_users_name_every_role_and_the_url_make_run_serves(db):
    out = StringIO()
    call_command("demo_users", "--url", "http://0.0.0.0:8123/", stdout=out)
    text = out.getvalue()
    for username in ("dana.desk", "lee.legal", "fran.finance", "eve.exec", "cara.cfo", "admin"):
        assert username in text
    assert text.rstrip().endswith("Open http://0.0.0.0:8123/ and log in as one of them.")


def test_seed_demo_grants_the_demo_signing_authorities_once(db):
    from decimal import Decimal

    from contracts.esign.models import SigningAuthority
    from dealdesk.management.commands.seed_demo import Command, seed_signing_authorities

    users = Command()._users()
    seed_signing_authorities(users)
    rows = [
        (a.user.username, a.title, a.max_tcv)
        for a in SigningAuthority.objects.select_related("user")
    ]
    assert rows == [
        ("dana.desk", "Deal Desk director", Decimal(250_000)),
        ("cara.cfo", "CFO", Decimal(2_000_000)),
        ("cole.ceo", "CEO", None),
    ]
    assert get_user_model().objects.get(username="cole.ceo").groups.get().name == Role.EXECUTIVE
    history = SigningAuthority.history.count()
    seed_signing_authorities(users)
    assert SigningAuthority.objects.count() == 3
    assert SigningAuthority.history.count() == history
