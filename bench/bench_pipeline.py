"""The whole pipeline (issue 16, "The promise, measured"): a generated book of won deals from
the CRM to their first invoice paid, on the local backends.

`--db sqlite|postgres [--deals N] [--seed S] [--nights N | --burst]`. The book is the seed
generator's mix (bench/pipeline_book.py), written as a CRM file bundle and imported by the real
`crm_sync` (CRM_BACKEND=file). The deals close over `--nights` business days, and each night's
incremental sync (beat's nightly run) imports that day's, as a company's won deals arrive;
`--burst` imports the whole book in one sync. The pipeline runs as it does without a broker:
eagerly, after each commit. Simulated people then act through the real services: each
approval request decided by a member of its group whom segregation of duties allows, Legal
approving a contract in legal review, every signer signing through their link's token, the
customer paying the first invoice by bank transfer (most in full, some in part, some late).
Beat's daily job (`invoices_issue_due`) runs on every simulated day with that day's date, so a
first invoice drafted for a later day is issued then, with no person. People's delays are
drawn on a simulated clock, never slept; the figures are the pipeline's own time between a
person's action (or the sync, or the daily job) and the next state, from the audit events'
timestamps. `--worker N` runs the steps on a real Celery worker (concurrency N) over a
throwaway redis-server (bench/pipeline_worker.py); PostgreSQL only.
Run: `BENCH_DATABASE_URL=$(.ci/pg start) .venv/bin/python bench/bench_pipeline.py --db postgres
[--deals 1000] [--worker 2]`.
"""

import argparse
import heapq
import itertools
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import django_database, median, percentile, report
from bench.pipeline_book import Book, make_book, setup_company
from bench.pipeline_worker import drained, start_redis, start_worker

DEALS = 1_000
# ~20 deals a business night: a quarter's won deals at the book's size.
NIGHTS = 50
STAGE_TARGET_S = 5.0
EXCEPTION_FREE_TARGET = 80.0
SIGNER_IP = "192.0.2.10"  # TEST-NET-1
SIGNER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) Dealdesk bench"
# Where a deal waits on people, and how long they take (simulated hours, min-max).
DELAY_HOURS = {"approve": (1, 48), "legal": (2, 72), "sign": (1, 240), "pay": (24, 1000)}
INVOICED = {"invoiced", "partially_paid", "paid"}
DEAL_TYPE = "dealdesk.deal"
WAITS_FOR_DATE = "first invoice drafted for a later day (issued then, no person)"
# Beat's hours (settings' defaults): the nightly CRM sync, and the daily job that issues the
# invoices whose day has come.
SYNC_HOUR, ISSUE_HOUR = 2, 6
# The daily job keeps running after the people finished while a first invoice waits for its
# day, up to this many simulated days in all.
MAX_DAYS = 400


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--deals", type=int, default=DEALS)
    parser.add_argument("--seed", type=int, default=2026)
    arrival = parser.add_mutually_exclusive_group()
    arrival.add_argument(
        "--nights",
        type=int,
        default=NIGHTS,
        help="the deals close over this many business days, each night's imported by its sync",
    )
    arrival.add_argument(
        "--burst", action="store_true", help="the whole book in one sync (one night)"
    )
    parser.add_argument(
        "--worker",
        type=int,
        default=0,
        metavar="CONCURRENCY",
        help="run the steps on a real Celery worker (this concurrency) over a throwaway Redis",
    )
    args = parser.parse_args()
    if args.burst:
        args.nights = 1
    if not 1 <= args.nights <= args.deals:
        parser.error("--nights must be between 1 and --deals")
    return args


class People:
    """The simulated people: who may act on a deal now, and acting for it."""

    def __init__(self, users: dict, rng: random.Random) -> None:
        from dealdesk.services import pipeline_user

        self.users = users
        self.rng = rng
        self.bot = pipeline_user()
        self.approvals = Counter()  # deal id → approvals given (requests and Legal)
        self.signatures = Counter()
        self.paid = {}  # deal id → how it paid

    def delay(self, kind: str) -> float:
        low, high = DELAY_HOURS[kind]
        return self.rng.uniform(low, high)

    def next_action(self, deal_id: int) -> str | None:
        """What a person can do for the deal now (None: it waits on no one we simulate)."""
        from approvals.models import ApprovalRequest
        from contracts.esign.models import PENDING_SIGNER_STATES, Signer
        from contracts.models import ContractVersion
        from dealdesk.models import Deal

        state = Deal.objects.values_list("state", flat=True).get(pk=deal_id)
        if state == "in_review":
            if ApprovalRequest.objects.filter(deal_id=deal_id, state="pending").exists():
                return "approve"
            if ContractVersion.objects.filter(deal_id=deal_id, state="legal_review").exists():
                return "legal"
        if state in ("out_for_signature", "countersigning"):
            waiting = Signer.objects.filter(
                request__deal_id=deal_id,
                request__state="sent",
                state__in=PENDING_SIGNER_STATES,
            ).exclude(link_nonce="")
            if waiting.exists():
                return "sign"
        if state == "invoiced" and deal_id not in self.paid:
            return "pay"
        return None

    def act(self, deal_id: int, action: str) -> None:
        getattr(self, f"_{action}")(deal_id)

    def _approve(self, deal_id: int) -> None:
        from django.contrib.auth import get_user_model
        from django.core.exceptions import PermissionDenied

        from approvals.models import ApprovalRequest
        from approvals.selectors import check_may_decide
        from approvals.services import approval_request_decide

        for request in ApprovalRequest.objects.filter(deal_id=deal_id, state="pending"):
            members = get_user_model().objects.filter(groups=request.group_id).order_by("pk")
            for user in members:
                try:
                    check_may_decide(request=request, user=user)
                except PermissionDenied:
                    continue  # barred (segregation of duties, or decided a step already)
                approval_request_decide(
                    request_id=request.pk, actor=user, approve=True, reason="Within policy."
                )
                self.approvals[deal_id] += 1
                break
            else:
                raise RuntimeError(f"nobody may decide approval request {request.pk}")

    def _legal(self, deal_id: int) -> None:
        from contracts import services as contracts
        from contracts.models import ContractVersion

        version = ContractVersion.objects.get(deal_id=deal_id, state="legal_review")
        contracts.contract_approve(version_id=version.pk, actor=self.users["lee.legal"])
        self.approvals[deal_id] += 1

    def _sign(self, deal_id: int) -> None:
        from contracts.esign.models import PENDING_SIGNER_STATES, Signer
        from contracts.esign.services import signer_sign
        from contracts.esign.tokens import signing_token

        signer = (
            Signer.objects.filter(
                request__deal_id=deal_id, request__state="sent", state__in=PENDING_SIGNER_STATES
            )
            .exclude(link_nonce="")
            .order_by("routing_order", "pk")[0]
        )
        signer_sign(
            token=signing_token(signer),
            typed_name=signer.name,
            consented=True,
            drawn_signature=None,
            ip=SIGNER_IP,
            user_agent=SIGNER_AGENT,
        )
        self.signatures[deal_id] += 1

    def _pay(self, deal_id: int) -> None:
        """The customer's transfer for the first invoice: 80 % in full on time, 10 % in part,
        10 % in full but late (received after the due date)."""
        from django.utils import timezone

        from billing.models import Invoice
        from billing.reconciliation.payments import payment_receive

        invoice = Invoice.objects.select_related("deal__account").get(deal_id=deal_id, plan_index=1)
        draw = self.rng.random()
        how, share = ("full", Decimal(1)) if draw < 0.8 else ("partial", Decimal("0.5"))
        received_on = timezone.localdate()
        if draw >= 0.9:
            how, share = "late", Decimal(1)
            received_on = (invoice.due_on or received_on) + timedelta(days=20)
        payment_receive(
            source="bank",
            external_id=f"bench-{invoice.deal.crm_id}",
            amount=(invoice.total * share).quantize(Decimal("0.01")),
            currency=invoice.currency,
            received_on=received_on,
            actor=self.bot,
            payer_name=invoice.deal.account.legal_name or invoice.deal.account.name,
            reference=f"Invoice {invoice.number}",
        )
        self.paid[deal_id] = how


def sync_hour(night: int) -> float:
    """When night `night`'s sync runs, in simulated hours: deals close on business days
    (Monday to Friday), and beat's nightly sync imports each day's."""
    return 24 * (night + 2 * (night // 5)) + SYNC_HOUR


def first_invoices_dated(ids: list[int]):
    """The deals' first invoices drafted for a day of their own, which the daily job issues
    when it comes (invoices_issue_due's own filter)."""
    from billing.models import Invoice

    return Invoice.objects.filter(
        deal__in=ids, plan_index=1, state="draft", record__state="created", issue_on__isnull=False
    )


class Simulation:
    """The simulated calendar, in time order: each night's sync of the deals that closed that
    day, beat's daily job, and people acting on the deals that wait for them. After each, the
    bench waits until the pipeline has run the steps that follow (`settled`)."""

    def __init__(
        self, people: People, book: Book, bundle: Path, nights: int, settled: Callable[[], None]
    ) -> None:
        from django.utils import timezone

        self.people, self.book, self.bundle = people, book, bundle
        self.nights, self.settled = nights, settled
        self.day_zero = timezone.localdate()
        self.events: list[tuple] = []
        self.order = itertools.count()  # ties keep the order they were scheduled in
        self.ids: list[int] = []
        self.idle: set[int] = set()  # deals no simulated person can act on now
        self.job_issued = {}  # deal id → when the daily job that issued its first invoice ran
        self.wall = Counter()  # what ran the pipeline → wall seconds of its steps
        self.runs = []  # the CRM sync runs
        self.last_day: date = self.day_zero  # the daily job's last simulated day
        self.last_person_h = 0.0

    def run(self) -> None:
        for night in range(self.nights):
            self._at(sync_hour(night), "sync", night)
        self._at(ISSUE_HOUR, "daily job", 0)
        while self.events:
            hour, _, kind, what = heapq.heappop(self.events)
            {"sync": self._sync, "daily job": self._daily_job, "person": self._person}[kind](
                hour, what
            )

    def _at(self, hour: float, kind: str, what) -> None:
        heapq.heappush(self.events, (hour, next(self.order), kind, what))

    @contextmanager
    def _pipeline(self, after: str) -> Iterator[None]:
        """Time what `after` does with the pipeline's steps that follow it."""
        began = time.perf_counter()
        yield
        self.settled()  # with a worker: until it has run the steps
        self.wall[after] += time.perf_counter() - began

    def _next(self, pk: int, hour: float) -> None:
        if action := self.people.next_action(pk):
            self._at(hour + self.people.delay(action), "person", (pk, action))
        else:
            self.idle.add(pk)

    def _sync(self, hour: float, night: int) -> None:
        from dealdesk.crm.sync import crm_sync
        from dealdesk.models import Deal

        closed = self.book.write(self.bundle, nights=self.nights, through=night)
        with self._pipeline("sync"):
            self.runs.append(crm_sync())  # incremental: the deals stamped since the last run
        new = list(Deal.objects.filter(crm_id__in=closed).values_list("pk", flat=True))
        self.ids += new
        for pk in new:
            self._next(pk, hour)

    def _daily_job(self, hour: float, day: int) -> None:
        """What beat's billing.issue_due does each morning, on the simulated day."""
        from django.utils import timezone

        from billing.services import invoices_issue_due
        from dealdesk.models import Deal

        self.last_day = self.day_zero + timedelta(days=day)
        started = timezone.now()
        with self._pipeline("daily job"):
            issued = invoices_issue_due(actor=self.people.bot, today=self.last_day)
        if issued:
            waiting = self.idle - self.people.paid.keys()
            invoiced = Deal.objects.filter(pk__in=waiting, state="invoiced")
            for pk in invoiced.values_list("pk", flat=True):
                self.job_issued[pk] = started
                self.idle.discard(pk)
                self._next(pk, hour)
        more = self.events or first_invoices_dated(self.ids).exists()
        if more and day + 1 < MAX_DAYS:
            self._at(hour + 24, "daily job", day + 1)

    def _person(self, hour: float, what: tuple[int, str]) -> None:
        pk, action = what
        with self._pipeline("people"):
            self.people.act(pk, action)  # the eager pipeline runs its next steps after each commit
        self.last_person_h = hour
        self._next(pk, hour)


def _first_events(ids: list[int], actions: list[str]) -> dict[tuple[int, str], object]:
    """(deal id, action) → when the deal's first such audit event happened."""
    from audit.models import AuditEvent

    first = {}
    events = AuditEvent.objects.filter(
        object_type=DEAL_TYPE, object_id__in=[str(pk) for pk in ids], action__in=actions
    ).order_by("seq")
    for action, object_id, at in events.values_list("action", "object_id", "occurred_at"):
        first.setdefault((int(object_id), action), at)
    return first


def _last_by_deal(model, deal_path: str, actions: list[str], ids: list[int]) -> dict:
    """Deal id → when its last audit event of `actions` on `model`'s rows happened: the
    person's action that the next state follows (the last approval, the last signature)."""
    from audit.models import AuditEvent

    deal_of = {
        str(pk): deal
        for pk, deal in model.objects.filter(**{f"{deal_path}__in": ids}).values_list(
            "pk", deal_path
        )
    }
    last = {}
    events = AuditEvent.objects.filter(
        object_type=model._meta.label_lower, object_id__in=list(deal_of), action__in=actions
    ).order_by("seq")
    for object_id, at in events.values_list("object_id", "occurred_at"):
        last[deal_of[object_id]] = at
    return last


def stage_latencies(ids: list[int], job_issued: dict) -> dict[str, list[float]]:
    """Per deal, seconds from the event that starts each stage (a person's action where one
    starts it) to the state that ends it, from the audit events' timestamps. A first invoice
    issued by the daily job is timed from that job's run (`job_issued`), not from signing."""
    from approvals.models import ApprovalRequest
    from audit.models import AuditEvent
    from billing.models import Invoice
    from contracts.esign.models import Signer
    from contracts.models import ContractVersion

    first = _first_events(
        ids,
        [
            "deal.created",
            "deal.classified",
            "deal.submitted_for_review",
            "deal.approved",
            "deal.sent_for_signature",
            "deal.signed",
        ],
    )
    decided = _last_by_deal(ApprovalRequest, "deal_id", ["approval_request.approved"], ids)
    legal = _last_by_deal(ContractVersion, "deal_id", ["contract_version.approved"], ids)
    signed = _last_by_deal(Signer, "request__deal_id", ["signer.signed"], ids)
    invoice_deal = {
        str(pk): deal
        for pk, deal in Invoice.objects.filter(deal__in=ids, plan_index=1).values_list(
            "pk", "deal_id"
        )
    }
    sent = {}
    events = AuditEvent.objects.filter(action="invoice.sent", object_id__in=list(invoice_deal))
    for object_id, at in events.order_by("seq").values_list("object_id", "occurred_at"):
        sent.setdefault(invoice_deal[object_id], at)

    def spans(start_of, end_of) -> list[float]:
        out = []
        for pk in ids:
            start, end = start_of(pk), end_of(pk)
            if start is not None and end is not None:
                out.append((end - start).total_seconds())
        return out

    def approved_by_person(pk):
        # The last approval given (a request or Legal's), else the policy approved it itself.
        given = [at for at in (decided.get(pk), legal.get(pk)) if at is not None]
        return max(given) if given else first.get((pk, "deal.approved"))

    return {
        # Without a worker the sync's deals queue for one eager runner, hence both figures.
        "Closed-Won → ready for approval": spans(
            lambda pk: first.get((pk, "deal.created")),
            lambda pk: first.get((pk, "deal.submitted_for_review")),
        ),
        "ready for approval, from its first step run": spans(
            lambda pk: first.get((pk, "deal.classified")),
            lambda pk: first.get((pk, "deal.submitted_for_review")),
        ),
        "approved → out for signature": spans(
            approved_by_person, lambda pk: first.get((pk, "deal.sent_for_signature"))
        ),
        "signed (or the daily job) → first invoice sent": spans(
            lambda pk: job_issued.get(pk, signed.get(pk)), sent.get
        ),
    }


def stopped_kinds(ids: list[int], today: date) -> tuple[Counter, Counter]:
    """Why each deal that did not reach its first invoice stopped: its kind, and the kind
    with the deal's own reason (what a person reads on the deal page). `today`: the daily
    job's last simulated day."""
    from billing.models import BillingRecord
    from contracts.esign.models import SignatureRequest
    from dealdesk.integrations.models import OutboxMessage
    from dealdesk.models import Deal

    dead = set(OutboxMessage.objects.filter(status="dead").values_list("object_id", flat=True))
    blocked = set(
        SignatureRequest.objects.filter(deal__in=ids, state="blocked").values_list(
            "deal_id", flat=True
        )
    )
    records = {
        deal: (state, go_live_on, problems)
        for deal, state, go_live_on, problems in BillingRecord.objects.filter(
            deal__in=ids
        ).values_list("deal_id", "state", "go_live_on", "problems")
    }
    # A first invoice drafted for a day the daily job had not reached: issued then, no person.
    dated = set(
        first_invoices_dated(ids).filter(issue_on__gt=today).values_list("deal_id", flat=True)
    )
    kinds, reasons = Counter(), Counter()
    rows = Deal.objects.filter(pk__in=ids).values_list("pk", "state", "state_reason")
    for pk, state, reason in rows:
        if state in INVOICED:
            continue
        if str(pk) in dead:
            kind = "dead letter"
        elif state == "approved" and pk in blocked:
            kind = "signature blocked (approved, a draft request)"
        elif pk in records and records[pk][0] == "exception":
            kind, reason = "billing exception", "; ".join(records[pk][2])
        elif pk in records and records[pk][0] == "pending" and records[pk][1] is None:
            kind = "billing waits for a go-live date (a person sets it)"
        elif pk in dated:
            kind = WAITS_FOR_DATE
        else:
            kind = state.replace("_", " ")
        kinds[kind] += 1
        reasons[f"{kind}: {reason[:100]}"] += 1
    return kinds, reasons


def main() -> None:
    args = parse_args()
    if args.worker and args.db != "postgres":
        raise SystemExit("--worker needs --db postgres (a second process on the database)")
    os.environ["EMAIL_URL"] = "memorymail://"
    os.environ["CRM_BACKEND"] = "file"
    os.environ["ESIGN_BACKEND"] = "local"
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        bundle = Path(tmp) / "crm_bundle.json"
        os.environ["CRM_FILE"] = str(bundle)
        if args.worker:
            start_redis(stack, Path(tmp))
        with django_database(args.db):
            settled = lambda: None  # noqa: E731 - eager: the steps ran before the call returned
            if args.worker:
                start_worker(stack, Path(tmp), args.worker)
                settled = drained
            company = setup_company()
            book = make_book(args.deals, company, seed=args.seed)
            people = People(company["users"], random.Random(args.seed))
            sim = Simulation(people, book, bundle, args.nights, settled)
            sim.run()
            assert len(sim.ids) == args.deals, f"{len(sim.ids)} of {args.deals} deals imported"
            print_figures(args, sim)
            stack.close()  # the worker stops before its database is dropped


def print_figures(args, sim: Simulation) -> None:
    from dealdesk.integrations.models import OutboxMessage
    from dealdesk.models import Deal

    ids, people = sim.ids, sim.people
    total = len(ids)
    states = Counter(Deal.objects.filter(pk__in=ids).values_list("state", flat=True))
    invoiced = list(
        Deal.objects.filter(pk__in=ids, state__in=INVOICED).values_list("pk", flat=True)
    )
    touchless = [pk for pk in invoiced if not people.approvals[pk]]
    kinds, reasons = stopped_kinds(ids, sim.last_day)
    mode = f"a Celery worker, concurrency {args.worker}" if args.worker else "eager, no broker"
    arrival = (
        "all at once (one sync)"
        if args.nights == 1
        else f"over {args.nights} business nights (~{total / args.nights:.0f} a night)"
    )
    print(f"{total:,} deals on {args.db}, arriving {arrival}; pipeline steps run by: {mode}")
    statuses = Counter(str(run.status) for run in sim.runs)
    runs = ", ".join(f"{count} {status}" for status, count in statuses.items())
    report(f"CRM sync runs ({runs}), deals imported", total, f"of {args.deals}")
    report("CRM syncs and the pipeline up to review, total", sim.wall["sync"], "s")
    report("pipeline work after people's actions, total", sim.wall["people"], "s")
    report("daily job (invoices_issue_due) and its steps, total", sim.wall["daily job"], "s")
    report("simulated days until the last person acted", sim.last_person_h / 24, "days")
    report("simulated days the daily job ran", (sim.last_day - sim.day_zero).days + 1, "days")
    report("first invoices the daily job issued (no person)", len(sim.job_issued), "deals")
    pct = 100 * len(invoiced) / total if total else 0.0
    report(
        "exception-free (invoiced; only required approvals)",
        pct,
        "%",
        f"≥ {EXCEPTION_FREE_TARGET:.0f} %",
    )
    # Every contract is signed by the customer and countersigned by us: those are not counted.
    touchless_pct = 100 * len(touchless) / total if total else 0.0
    report("touchless (invoiced; no approval by a person)", touchless_pct, "%")
    approved = sum(1 for pk in ids if people.approvals[pk])
    report("deals a person approved (requests or Legal)", approved, "deals")
    report("approvals given by people", sum(people.approvals.values()), "approvals")
    report("signatures given (customers and countersigners)", people.signatures.total(), "")
    with_dated = 100 * (len(invoiced) + kinds[WAITS_FOR_DATE]) / total if total else 0.0
    report("exception-free, counting first invoices not yet due", with_dated, "%")
    for kind, count in kinds.most_common():
        report(f"stopped: {kind}", 100 * count / total, "%")
    for reason, count in reasons.most_common():
        print(f"  {count:5d} × {reason}")
    report("outbox steps not done", OutboxMessage.objects.exclude(status="done").count(), "steps")
    print("final states:", dict(sorted(states.items())))
    print("payments:", dict(Counter(people.paid.values())))
    for stage, samples in stage_latencies(ids, sim.job_issued).items():
        if not samples:
            print(f"{stage}: no deal got through")
            continue
        report(f"{stage}, median ({len(samples)} deals)", median(samples), "s", "≤ 5 s")
        report(f"{stage}, p95", percentile(samples, 95), "s")


if __name__ == "__main__":
    main()
