"""E-signature sending: 1,000 approved deals sent to the local backend, end to end.

`--db sqlite|postgres`. One deal is drafted through the real services (the pipeline held) for
a real contract PDF; 1,000 approved deals are then bulk-made around copies of its version
(the same stored PDF, so the hash check reads real bytes), each with a customer signer and
one countersigner with unlimited authority. Each is sent through `signature_send`, with the
pipeline running as it does without a broker (eagerly, after each commit): the request
sent, the backend delivering it, the first signer's link e-mailed (Django's locmem backend).
"""

import os
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import django_database, median, parse_db_arg, percentile, report, settle

DEALS = 1_000
TOTAL_TARGET_S = 60.0


def build_template_deal(**account_fields):
    """One deal drafted for real: its contract version is copied onto the benchmark's deals."""
    from contracts import services as contracts
    from dealdesk import pipeline, services
    from dealdesk.models import Account, Contact, Product

    account = Account.objects.create(
        crm_id="001ESIGN",
        name="Esign Co",
        legal_name="Esign Co Inc.",
        **{"billing_country": "US", **account_fields},
    )
    signer = Contact.objects.create(account=account, name="Sig Ner", email="sig@esign.example")
    seat = Product.objects.create(
        sku="SEAT-ESIGN",
        name="Seat",
        kind="subscription",
        billing_interval="month",
        list_price=Decimal(45),
        floor_price=Decimal(30),
    )
    owner = services.service_user(username="bench-ae", first_name="AE", permissions=[])
    spec = services.DealSpec(
        crm_id="006ESIGN",
        name="Template deal",
        account=account,
        owner=owner,
        start_date=date(2026, 1, 1),
        term_months=12,
        crm_amount=Decimal(45) * 100 * 12,
        lines=[services.LineSpec(seat, Decimal(100))],
        contacts=[services.ContactSpec(signer, "Signer", True)],
    )
    bot = services.pipeline_user()
    with pipeline.held():
        deal = services.deal_create(spec=spec, actor=bot)
        services.deal_classify_and_price(deal_id=deal.pk, actor=bot)
        version = contracts.contract_draft(deal_id=deal.pk, actor=bot)
    deal.refresh_from_db()
    assert version is not None, "the template deal did not draft"
    assert deal.tcv, "the template deal was not priced"
    return deal, version, signer


def build_approved_deals(
    template, version, signer, *, first: int = 0, count: int = DEALS
) -> list[int]:
    """`count` approved deals, bulk-made: no pipeline steps (held), no per-deal services."""
    from django.contrib.auth.models import User

    from contracts.esign.models import SigningAuthority
    from contracts.models import ContractVersion
    from dealdesk import pipeline, services
    from dealdesk.models import Deal

    if not first:
        director = User.objects.create(
            username="bench-director", first_name="Dee", last_name="Rector", email="dee@x.example"
        )
        SigningAuthority.objects.create(user=director, title="Deal Desk director", max_tcv=None)
    specs = [
        services.DealSpec(
            crm_id=f"006ESIGN{n:06d}",
            name=f"Esign deal {n}",
            account=template.account,
            owner=template.owner,
            start_date=date(2026, 1, 1),
            term_months=12,
            contacts=[services.ContactSpec(signer, "Signer", True)],
        )
        for n in range(first, first + count)
    ]
    with pipeline.held():
        deals = services.deals_create(specs=specs, actor=services.pipeline_user())
    ids = [deal.pk for deal in deals]
    # Straight to approved: what gets there (pricing, drafting, approvals) is not measured.
    Deal.objects.filter(pk__in=ids).update(
        state="approved", tcv=template.tcv, currency=template.currency
    )
    copied = {
        name: getattr(version, name)
        for name in ("template", "snapshot", "content_hash", "docx", "docx_sha256", "pdf")
    }
    ContractVersion.objects.bulk_create(
        [
            ContractVersion(
                deal_id=pk,
                number=1,
                state="approved",
                pdf_sha256=version.pdf_sha256,
                created_by=version.created_by,
                made_by="benchmark copy",
                **copied,
            )
            for pk in ids
        ],
        batch_size=500,
    )
    return ids


def main() -> None:
    db = parse_db_arg(__doc__.splitlines()[0])
    os.environ["EMAIL_URL"] = "memorymail://"  # Django's locmem backend: mail.outbox
    with django_database(db):
        from django.core import mail
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from contracts.esign.models import SignatureRequest, Signer
        from contracts.esign.services import signature_send
        from dealdesk.integrations.models import OutboxMessage
        from dealdesk.models import Deal
        from dealdesk.services import pipeline_user

        template, version, signer = build_template_deal()
        ids = build_approved_deals(template, version, signer)
        settle("dealdesk_deal", "contracts_contractversion", "dealdesk_dealcontact")
        bot = pipeline_user()
        mail.outbox = []

        samples = []
        start = time.perf_counter()
        for pk in ids:
            began = time.perf_counter()
            signature_send(deal_id=pk, actor=bot)
            samples.append((time.perf_counter() - began) * 1000)
        total = time.perf_counter() - start

        # End to end means every step ran: sent, delivered, the first signer mailed.
        sent = Deal.objects.filter(pk__in=ids, state="out_for_signature").count()
        assert sent == DEALS, f"{sent} of {DEALS} deals out for signature"
        assert SignatureRequest.objects.filter(deal__in=ids, state="sent").count() == DEALS
        assert Signer.objects.filter(request__deal__in=ids, state="notified").count() == DEALS
        assert len(mail.outbox) == DEALS, f"{len(mail.outbox)} e-mails"
        unfinished = OutboxMessage.objects.exclude(status="done").count()
        assert unfinished == 0, f"{unfinished} pipeline steps not done"

        report(
            f"send for signature, {DEALS:,} deals end to end, total",
            total,
            "s",
            f"≤ {TOTAL_TARGET_S:.0f} s",
        )
        report("send for signature, per deal, mean", total * 1000 / DEALS, "ms")
        report("send for signature, per deal, median", median(samples), "ms")
        report("send for signature, per deal, p95", percentile(samples, 95), "ms")
        # One more deal, its queries counted: where the per-deal time goes.
        extra = build_approved_deals(template, version, signer, first=DEALS, count=1)
        with CaptureQueriesContext(connection) as queries:
            signature_send(deal_id=extra[0], actor=bot)
        report("send for signature, per deal, queries", len(queries), "queries")


if __name__ == "__main__":
    main()
