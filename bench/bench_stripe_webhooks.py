"""Stripe webhooks: 1,000 events acknowledged, then the 1,000 queued events processed.

`--db sqlite|postgres`. Against the local fake Stripe (tests/billing/fake_stripe.py, the real
SDK over http on 127.0.0.1): 100 signed deals (bulk-made around one real executed contract,
as bench_billing makes them) are billed in Stripe through `billing_start`, their first
invoices finalized, sent and paid there. Every event Stripe emitted for that (topped up to
1,000 with events we ignore) is then:
1. POSTed, each signed as Stripe signs a delivery, to /billing/webhooks/stripe/ through
   Django's test client, in process: middleware, the signature checked against two secrets
   (a rotation), the event stored in the webhook inbox, the 200. Handling is deferred: the
   relay publishes to Celery's in-memory broker, where no worker takes it; an event that
   finds an earlier one still waiting for its worker publishes nothing (that worker takes it).
2. Processed as one worker does: each message published in step 1 taken off the in-memory
   broker and its task (`webhook_process(pk, 0)`) run here, in order. It takes its event with
   the queue's other first attempts, 100 at a time until none is left. A batch acts on each
   object once: the invoice re-fetched from the fake, mirrored and issued, the payment
   received and reconciled, the deal moved to invoiced and paid, schedules read back and
   compared. An invoice converged by an earlier batch after its news was stored is not
   fetched again (`billing.StripeConvergence`, billing/stripe_sync/converged.py).
The fake answers on threads of this process, sharing its CPU: the CPU time its server spent
answering is reported apart from ours (the SDK's side of each call is ours: production pays
it, plus the network).
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_billing import make_signed
from bench.bench_esign_send import build_approved_deals, build_template_deal
from bench.bench_outbox import use_broker
from bench.harness import django_database, median, parse_db_arg, percentile, report, settle

DEALS = 100
EVENTS = 1_000
WARMUP = 20  # the process's first requests load the URL conf, middleware, templates
ACK_TARGET = 500.0
PROCESS_TARGET = 200.0
URL = "/billing/webhooks/stripe/"
ROTATED_OUT = "whsec_bench_old"  # a signing key being rotated out


def bill_in_stripe(fake, ids: list[int]) -> None:
    """Each deal billed in the fake Stripe, its first invoice finalized, sent and paid."""
    from billing.ledger.stripe_client import stripe_client
    from billing.models import BillingRecord
    from billing.services import billing_start
    from dealdesk import pipeline
    from dealdesk.services import pipeline_user

    bot = pipeline_user()
    with pipeline.held():
        for pk in ids:
            billing_start(deal_id=pk, actor=bot)
    created = BillingRecord.objects.filter(deal__in=ids, state="created").count()
    assert created == len(ids), f"{created} of {len(ids)} deals billed in Stripe"
    fake.advance_clock(3600)  # the first invoices' drafts finalize themselves
    api = stripe_client().v1
    for invoice_id in list(fake.invoices):
        api.invoices.send_invoice(invoice_id)
        api.invoices.pay(invoice_id)


def published_tasks() -> list[tuple[str, list]]:
    """Every message waiting in the in-memory broker's default queue: (task name, args)."""
    from kombu.simple import SimpleQueue

    from dealdesk.celery import app

    tasks = []
    with app.connection_for_read() as connection:
        queue = SimpleQueue(connection, app.conf.task_default_queue)
        while True:
            try:
                message = queue.get(block=False)
            except queue.Empty:
                return tasks
            args, _kwargs, _embed = message.decode()
            tasks.append((message.headers["task"], args))
            message.ack()


def main() -> None:
    db = parse_db_arg(__doc__.splitlines()[0])
    with django_database(db):
        from django.conf import settings
        from django.test import Client

        from billing.models import Invoice, Payment
        from dealdesk.integrations import webhooks
        from dealdesk.integrations.models import WebhookEvent
        from dealdesk.integrations.tasks import webhook_process
        from dealdesk.models import Deal
        from tests.billing.fake_stripe import WEBHOOK_SECRET, fake_stripe

        billable = {
            "billing_email": "ap@esign.example",
            "billing_street": "1 Market Street",
            "billing_city": "San Francisco",
            "billing_postal_code": "94105",
        }
        template, version, signer = build_template_deal(**billable)
        ids = build_approved_deals(template, version, signer, count=DEALS)
        make_signed(ids)
        settle("dealdesk_deal", "contracts_contractversion", "esign_signaturerequest")
        secrets = [WEBHOOK_SECRET, ROTATED_OUT]
        with fake_stripe(settings, webhook_secrets=secrets) as fake:
            bill_in_stripe(fake, ids)
            while len(fake.events) < WARMUP + EVENTS:  # events we store and ignore
                fake._emit("customer.updated", next(iter(fake.customers.values())))
            deliveries = [fake.webhook(event["id"]) for event in fake.events]
            use_broker("memory://localhost/")  # deferred: published, not run

            client = Client()

            def post(batch: list) -> list[float]:
                samples = []
                for body, headers in batch:
                    began = time.perf_counter()
                    answer = client.post(
                        URL, body, content_type="application/json", headers=headers
                    )
                    samples.append((time.perf_counter() - began) * 1000)
                    assert answer.status_code == 200, (answer.status_code, answer.content)
                return samples

            def work() -> tuple[int, int, int]:
                """The published tasks run as one worker runs them, in order: (events that
                were queued, messages, tasks that handled their own event)."""
                queued = WebhookEvent.objects.filter(vendor="stripe", status="pending").count()
                # The pipeline's next steps (outbox messages of deals invoiced and paid) are
                # other workers' business: not run here.
                tasks = [a for name, a in published_tasks() if name == webhook_process.name]
                return queued, len(tasks), sum(webhooks.webhook_process(*a) for a in tasks)

            # Warm-up: the process's first requests and tasks load code and templates.
            post(deliveries[:WARMUP])
            work()
            start, cpu = time.perf_counter(), time.process_time()
            samples = post(deliveries[WARMUP : WARMUP + EVENTS])
            acked, acked_cpu = time.perf_counter() - start, time.process_time() - cpu

            served, served_cpu = fake.served, fake.served_cpu_seconds
            start, cpu = time.perf_counter(), time.process_time()
            tasks, messages, batches = work()
            processed, processed_cpu = time.perf_counter() - start, time.process_time() - cpu
            calls, fake_cpu = fake.served - served, fake.served_cpu_seconds - served_cpu
            assert tasks == EVENTS, f"{tasks} events queued"
            assert fake.crashes == []

        done = WebhookEvent.objects.filter(vendor="stripe", status="done").count()
        assert done == WARMUP + EVENTS, f"{done} events handled"
        paid = Invoice.objects.filter(deal__in=ids, state="paid").count()
        assert paid == DEALS == Payment.objects.count(), f"{paid} invoices paid"
        assert Deal.objects.filter(pk__in=ids, state="paid").count() == DEALS
        # Wall time is the figure held to the target; CPU time (this process's, the fake's
        # threads taken out) says what the work costs when other processes share the machine.
        report(
            f"Stripe webhook, {EVENTS:,} events acknowledged (test client)",
            EVENTS / acked,
            "events/s",
            f"≥ {ACK_TARGET:.0f}/s",
        )
        report("  by CPU time", EVENTS / acked_cpu, "events/s")
        report("Stripe webhook, per event, median", median(samples), "ms")
        report("Stripe webhook, per event, p95", percentile(samples, 95), "ms")
        report(
            f"Stripe events processed, {EVENTS:,} queued, one worker",
            EVENTS / processed,
            "events/s",
            f"≥ {PROCESS_TARGET:.0f}/s",
        )
        # The fake answers in this process, on the same CPU: its answering is not ours.
        report(f"  of which the fake Stripe answering {calls:,} calls (CPU)", fake_cpu, "s")
        report("  ours (the SDK's side of each call included)", processed - fake_cpu, "s")
        report("  ours, per event", EVENTS / (processed - fake_cpu), "events/s")
        report("  ours by CPU time, per event", EVENTS / (processed_cpu - fake_cpu), "events/s")
        report(f"  broker messages published for the {EVENTS:,} events", messages, "msgs")
        report("  tasks that handled their own event (and the queue)", batches, "")


if __name__ == "__main__":
    main()
