"""Demo data: a realistic software company's catalog, customers, people and 40 deals.

Idempotent: everything is looked up by its natural key first, so a second run changes
nothing (no rows, no history, no audit events). Deals are created and moved through the
same services the product uses, so their history and audit trail are real.
"""

import contextlib
import dataclasses
import json
import random
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from approvals import services as approval_services
from approvals.models import ApprovalRequest
from billing import services as billing_services
from billing.demo import PAID_SHARE, pay_for_demo, write_demo_statement
from billing.invoice_delivery import invoice_deliver
from billing.models import Invoice
from contracts import services as contract_services
from contracts.esign import services as esign_services
from contracts.esign.authority_changes import signing_authority_save
from contracts.esign.models import PENDING_SIGNER_STATES, Backend, R, Signer, SigningAuthority
from contracts.esign.tokens import signing_path, signing_token
from contracts.reference_data import install_contract_reference_data
from dealdesk import pipeline, services
from dealdesk.crm.models import CrmOwner
from dealdesk.models import Account, Contact, Deal, Product
from dealdesk.reference_data import install_reference_data
from dealdesk.roles import Role
from insights.demo import demo_clock, demo_start

DEMO_PASSWORD = "dealdesk-demo"  # noqa: S105 - printed on purpose: demo users only

# The demo CRM bundle's opportunity owners (dealdesk/demo/crm_bundle.json) and who they are.
CRM_OWNERS = [("005DEMO000000001", "sam.sales"), ("005DEMO000000002", "alex.sales")]

USERS = [
    # username, first, last, role, staff
    ("dana.desk", "Dana", "Whitfield", Role.DEAL_DESK, True),
    ("lee.legal", "Lee", "Okafor", Role.LEGAL, True),
    ("fran.finance", "Fran", "Moreau", Role.FINANCE, True),
    # Before Eve: the demo's Executive approvals are decided by the group's last user.
    ("cole.ceo", "Cole", "Haddad", Role.EXECUTIVE, True),  # signs above the CFO's limit
    ("eve.exec", "Eve", "Lindqvist", Role.EXECUTIVE, True),
    ("cara.cfo", "Cara", "Achterberg", Role.CFO, True),
    ("sam.sales", "Sam", "Delgado", Role.SALES, False),
    ("alex.sales", "Alex", "Nakamura", Role.SALES, False),
    ("ana.auditor", "Ana", "Brennan", Role.AUDITOR, True),
]

P = Product.Kind
IV = Product.Interval
PRODUCTS = [
    # sku, name, kind, interval, list, floor, currency
    ("PLAT-STARTER", "Platform — Starter tier", P.SUBSCRIPTION, IV.YEAR, "12000", "10800", "USD"),
    ("PLAT-GROWTH", "Platform — Growth tier", P.SUBSCRIPTION, IV.YEAR, "36000", "30600", "USD"),
    ("PLAT-ENT", "Platform — Enterprise tier", P.SUBSCRIPTION, IV.YEAR, "96000", "76800", "USD"),
    ("SEAT-STD", "Standard user seat", P.SUBSCRIPTION, IV.MONTH, "45", "36", "USD"),
    ("SEAT-ADMIN", "Admin user seat", P.SUBSCRIPTION, IV.MONTH, "90", "72", "USD"),
    ("SSO-ADDON", "SSO & SCIM add-on", P.SUBSCRIPTION, IV.YEAR, "6000", "4800", "USD"),
    ("SUPPORT-PREM", "Premium support (24×7)", P.SUBSCRIPTION, IV.YEAR, "18000", "15300", "USD"),
    ("SANDBOX", "Sandbox environment", P.SUBSCRIPTION, IV.MONTH, "750", "600", "USD"),
    ("API-1K", "API calls, committed (per 1,000)", P.USAGE, IV.MONTH, "2.50", "2.00", "USD"),
    ("IMPL-STD", "Implementation — standard", P.ONE_TIME, IV.ONE_TIME, "15000", "12000", "USD"),
    ("IMPL-ENT", "Implementation — enterprise", P.ONE_TIME, IV.ONE_TIME, "45000", "38000", "USD"),
    ("TRAIN-DAY", "On-site training day", P.ONE_TIME, IV.ONE_TIME, "3500", "3000", "USD"),
    (
        "PLAT-GROWTH-EUR",
        "Platform — Growth tier (EUR)",
        P.SUBSCRIPTION,
        IV.YEAR,
        "33000",
        "28000",
        "EUR",
    ),
    ("SEAT-STD-EUR", "Standard user seat (EUR)", P.SUBSCRIPTION, IV.MONTH, "42", "34", "EUR"),
    (
        "PLAT-GROWTH-GBP",
        "Platform — Growth tier (GBP)",
        P.SUBSCRIPTION,
        IV.YEAR,
        "28500",
        "24000",
        "GBP",
    ),
]

ACCOUNTS = [
    # crm id, name, legal name, street, city, state, zip, country, currency, msa
    (
        "001A000001",
        "Acme Logistics",
        "Acme Logistics, Inc.",
        "100 Harbor Way",
        "Oakland",
        "CA",
        "94607",
        "United States",
        "USD",
        "",
    ),
    (
        "001A000002",
        "Brightline Health",
        "Brightline Health Systems LLC",
        "55 Water St",
        "New York",
        "NY",
        "10041",
        "United States",
        "USD",
        "MSA-2024-017",
    ),
    (
        "001A000003",
        "Cobalt Robotics",
        "Cobalt Robotics Corp.",
        "2 Innovation Dr",
        "Austin",
        "TX",
        "78701",
        "United States",
        "USD",
        "",
    ),
    (
        "001A000004",
        "Dunmore & Pryce",
        "Dunmore & Pryce <Holdings> Ltd",
        "12 Fleet Street",
        "London",
        "",
        "EC4Y 1AA",
        "United Kingdom",
        "GBP",
        "",
    ),
    (
        "001A000005",
        "Elbe Maschinenbau",
        "Elbe Maschinenbau GmbH",
        "Speicherstadt 4",
        "Hamburg",
        "",
        "20457",
        "Germany",
        "EUR",
        "",
    ),
    (
        "001A000006",
        "Fjord Analytics",
        "Fjord Analytics AS",
        "Karl Johans gate 8",
        "Oslo",
        "",
        "0154",
        "Norway",
        "EUR",
        "",
    ),
    (
        "001A000007",
        "Granite Bank",
        "Granite Bank, N.A.",
        "1 Granite Plaza",
        "Charlotte",
        "NC",
        "28202",
        "United States",
        "USD",
        "MSA-2023-004",
    ),
    (
        "001A000008",
        "Helios Energy",
        "Helios Energy Partners LP",
        "900 Louisiana St",
        "Houston",
        "TX",
        "77002",
        "United States",
        "USD",
        "",
    ),
    (
        "001A000009",
        "Ionic Media",
        "Ionic Media Group, Inc.",
        "410 N Michigan Ave",
        "Chicago",
        "IL",
        "60611",
        "United States",
        "USD",
        "",
    ),
    (
        "001A000010",
        "Juniper Retail",
        "Juniper Retail Co.",
        "77 Pike St",
        "Seattle",
        "WA",
        "98101",
        "United States",
        "USD",
        "",
    ),
    (
        "001A000011",
        "株式会社さくらデータ",
        "Sakura Data K.K. (株式会社さくらデータ)",
        "1-1 Marunouchi",
        "Tokyo",
        "",
        "100-0005",
        "Japan",
        "USD",
        "",
    ),
    (
        "001A000012",
        "Kestrel Aerospace",
        "Kestrel Aerospace Ltd.",
        "3 Aviation Rd",
        "Toronto",
        "ON",
        "M5J 1B7",
        "Canada",
        "USD",
        "",
    ),
]

# The European customers' VAT ids (made up): their invoices must carry them.
DEMO_TAX_IDS = {
    "001A000004": "GB123456789",
    "001A000005": "DE811907980",
    "001A000006": "NO916813701MVA",
}

PLAIN_NOTES = [
    "Great call with their CFO, competitor is Acme Suite, standard paper.",
    "Champion is the VP Ops. Signed off on standard order form, no redlines.",
    "Expansion of last year's pilot; procurement happy with standard terms.",
    "Replacing a homegrown tool. Budget approved in Q3, standard paper.",
    "",
]
TERMS_NOTES = [
    "Net 60, PO required (PO-4471) on all invoices.",
    "they wanted MFN, declined. auto renew OFF",
    "T4C w/ 90 days notice; 99.95 uptime SLA, 10% credit",
    "Customer asked for a 5% annual uplift cap on renewal and EU data residency.",
    "Billing starts on go-live, expected ~60 days after signature. Pay by wire.",
    "Liability cap 2x fees. Governing law: Delaware.",
]

# Deals in review left waiting on one group, the other groups' steps granted, so every
# approving role finds work in My approvals (the other in_review deals wait on Deal Desk,
# Legal and the CFO as the policy has it): target → what makes the policy ask that group.
WAITING_ON = {
    # Net 90 needs Finance (beyond net 60); 15 % off needs Deal Desk, granted.
    "waiting_finance": {
        "discount_pct": Decimal(15),
        "payment_terms": 90,
        "notes": "Net 90, PO required (PO-5120) on all invoices.",
    },
    # 25 % off needs the VP Sales at step 2, after Deal Desk's step 1 is granted.
    "waiting_executive": {"discount_pct": Decimal(25)},
}

# Signed demo deals whose terms decide how billing goes: the first invoice a month away,
# payment terms beyond Finance's policy (BILLING_MAX_PAYMENT_TERMS: a billing exception), or
# billing from signature (not at a go-live the demo has no date for).
BILLING_TERMS = {
    "billing": {"notes": "Billing starts 30 days after signature. Standard paper otherwise."},
    "billing_exception": {"payment_terms": 120, "notes": "Net 120 agreed with their treasury."},
    "paid": {"notes": "Standard paper; their AP pays by wire on receipt."},
    "partially_paid": {"notes": "PO required (PO-7730) on all invoices. Pay by wire."},
}

WAITING_GROUP = {"waiting_finance": Role.FINANCE, "waiting_executive": Role.EXECUTIVE}

# (target state, how many) — 40 deals across the pipeline.
# Demo states a deal reaches through e-signature (walked at today's date, see Command._clock).
SIGNATURE_AND_AFTER = {
    "out_for_signature",
    "countersigning",
    "signed",
    "billing",
    "billing_exception",
    "invoiced",
    "partially_paid",
    "paid",
}

STATE_PLAN = [
    ("drafting", 6),
    # Six in review; the waiting ones take the places of deals that needed nobody (or only
    # Deal Desk), so the deals around them stay as they were.
    ("in_review", 1),
    ("waiting_executive", 1),
    ("in_review", 1),
    ("waiting_finance", 1),
    ("in_review", 2),
    # The deals sent for signature are ones whose contract Legal approved (their terms asked
    # for it), so each signs a version in the approved state, the one a contract is executed
    # from. Past signature: billed (first invoice 30 days on), invoiced, paid in full and in
    # part (an AR item), and one Finance must look at (payment terms beyond policy).
    ("approved", 8),
    ("partially_paid", 1),
    ("billing_exception", 1),
    ("approved", 1),
    ("out_for_signature", 1),
    ("countersigning", 1),
    ("approved", 1),
    ("signed", 1),
    ("billing", 1),
    ("paid", 1),
    ("invoiced", 1),
    ("changes_requested", 3),
    ("cancelled", 3),
    ("manual_review", 4),
]


class Command(BaseCommand):
    help = "Create the demo company (idempotent)."

    def handle(self, *args, **options) -> None:
        install_reference_data(django_apps)  # a no-op on a migrated database
        install_contract_reference_data(django_apps)
        users = self._users()
        for salesforce_user_id, username in CRM_OWNERS:
            CrmOwner.objects.get_or_create(
                salesforce_user_id=salesforce_user_id, defaults={"user": users[username]}
            )
        products = self._products()
        accounts = self._accounts()
        seed_signing_authorities(users)
        created = self._deals(users, products, accounts)
        statement = write_demo_statement(settings.VAR_DIR / "demo" / "bank-statement.csv")
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({created} new deals)."))
        self.stdout.write(
            f"A bank statement for Finance to import (Billing → Bank imports): {statement}"
        )
        self.stdout.write("The demo users: manage.py demo_users")

    def _users(self) -> dict[str, object]:
        user_model = get_user_model()
        users = {}
        for username, first, last, role, staff in USERS:
            user, created = user_model.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@dealdesk.example",
                    "is_staff": staff,
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
                user.groups.add(Group.objects.get(name=role))
            users[username] = user
        admin, created = user_model.objects.get_or_create(
            username="admin",
            defaults={"is_staff": True, "is_superuser": True, "email": "admin@dealdesk.example"},
        )
        if created:
            admin.set_password(DEMO_PASSWORD)
            admin.save(update_fields=["password"])
        return users

    def _products(self) -> dict[str, Product]:
        products = {}
        for sku, name, kind, interval, list_price, floor, currency in PRODUCTS:
            products[sku], _ = Product.objects.get_or_create(
                sku=sku,
                defaults={
                    "name": name,
                    "kind": kind,
                    "billing_interval": interval,
                    "list_price": Decimal(list_price),
                    "floor_price": Decimal(floor),
                    "currency": currency,
                },
            )
        return products

    def _accounts(self) -> list[Account]:
        # Employee counts (the segment) as the demo CRM bundle has them, so a sync changes nothing.
        bundle = Path(settings.BASE_DIR) / "dealdesk" / "demo" / "crm_bundle.json"
        employees = {
            a["Id"]: a.get("NumberOfEmployees")
            for a in json.loads(bundle.read_text(encoding="utf-8"))["Account"]
        }
        accounts = []
        for crm_id, name, legal, street, city, state, zip_, country, currency, msa in ACCOUNTS:
            account, created = Account.objects.get_or_create(
                crm_id=crm_id,
                defaults={
                    "name": name,
                    "legal_name": legal,
                    "billing_street": street,
                    "billing_city": city,
                    "billing_state": state,
                    "billing_postal_code": zip_,
                    "billing_country": country,
                    "billing_email": f"ap@{crm_id.lower()}.example",
                    "tax_id": DEMO_TAX_IDS.get(crm_id, ""),
                    "currency": currency,
                    "msa_reference": msa,
                    "employees": employees.get(crm_id),
                },
            )
            if created:
                Contact.objects.create(
                    account=account,
                    crm_id=f"003{crm_id[3:]}",
                    name=f"Signer of {name}",
                    email=f"legal@{crm_id.lower()}.example",
                    title="General Counsel",
                )
            accounts.append(account)
        return accounts

    def _deals(self, users, products, accounts) -> int:
        rng = random.Random(2026)  # noqa: S311 - fixed seed: the same demo every time
        sales = [users["sam.sales"], users["alex.sales"]]
        created = 0
        number = 0
        for target, count in STATE_PLAN:
            for _ in range(count):
                number += 1
                crm_id = f"006DEMO{number:05d}"
                # Draw every random choice even for existing deals, so later ones stay stable.
                spec = self._deal_spec(rng, number, crm_id, target, sales, products, accounts)
                if Deal.objects.filter(crm_id=crm_id).exists():
                    continue
                with pipeline.held(), self._clock(target, number):
                    deal = services.deal_create(spec=spec, actor=services.pipeline_user())
                    self._move(deal, target, users)
                created += 1
        return created

    def _clock(self, target: str, number: int):
        """The deals that stop before signature are walked in the past (insights/demo.py), so
        the dashboard has weeks of cycle times and ageing to show. Those sent for signature
        or past it are walked now: their signing links, expiry and invoice dates stay as the
        demo describes them."""
        if target in SIGNATURE_AND_AFTER:
            return contextlib.nullcontext()
        total = sum(count for _, count in STATE_PLAN)
        # Its own draws, so the deals' random choices stay what they were without the clock.
        waits = random.Random(number)  # noqa: S311 - fixed seed: the same demo every time
        return demo_clock(demo_start(number, total), waits)

    def _deal_spec(self, rng, number, crm_id, target, sales, products, accounts):
        account = accounts[number % len(accounts)]
        currency = account.currency
        suffix = {"EUR": "-EUR", "GBP": "-GBP"}.get(currency, "")
        growth = products[f"PLAT-GROWTH{suffix}"]
        term = rng.choice([12, 12, 24, 36])
        lines: list[services.LineSpec] = []
        if target == "manual_review" and number % 2 == 0 and currency == "USD":
            # One-time-only order: fits no pattern, so a person looks at it.
            lines.append(services.LineSpec(products["TRAIN-DAY"], Decimal(rng.randint(2, 6))))
        elif currency != "USD":
            lines.append(services.LineSpec(growth, Decimal(1), Decimal(rng.choice([0, 5, 10]))))
            if currency == "EUR":
                lines.append(
                    services.LineSpec(products["SEAT-STD-EUR"], Decimal(rng.randint(20, 200)))
                )
        elif number % 5 == 0 and term >= 24:
            # Multi-year ramp: seats step up each year at a falling discount.
            seats = rng.randint(50, 150)
            for year in range(1, term // 12 + 1):
                lines.append(
                    services.LineSpec(
                        products["SEAT-STD"],
                        Decimal(seats * year),
                        Decimal(20 - 5 * year),
                        segment_index=year,
                    )
                )
        else:
            tier = rng.choice(["PLAT-STARTER", "PLAT-GROWTH", "PLAT-ENT"])
            lines.append(
                services.LineSpec(products[tier], Decimal(1), Decimal(rng.choice([0, 5, 12, 25])))
            )
            if number % 3:
                lines.append(services.LineSpec(products["SEAT-STD"], Decimal(rng.randint(10, 400))))
            if number % 4 == 0:
                lines.append(services.LineSpec(products["IMPL-STD"], Decimal(1)))
            if number % 7 == 0:
                lines.append(services.LineSpec(products["API-1K"], Decimal(500)))
        notes = rng.choice(TERMS_NOTES if number % 3 == 0 else PLAIN_NOTES)
        # Drawn in the order they always were, so the other deals stay as they were.
        billing_frequency = rng.choice(["annual", "annual", "quarterly", "monthly", "upfront"])
        payment_terms = rng.choice([30, 30, 45, 60])
        if waiting := WAITING_ON.get(target):
            lines[0] = dataclasses.replace(lines[0], discount_pct=waiting["discount_pct"])
            notes = waiting.get("notes", notes)
            payment_terms = waiting.get("payment_terms", payment_terms)
        if billing := BILLING_TERMS.get(target):
            notes = billing.get("notes", notes)
            payment_terms = billing.get("payment_terms", payment_terms)
        crm_amount = sum(
            (
                (line.list_unit_price or line.product.list_price)
                * line.quantity
                * (1 - line.discount_pct / 100)
                for line in lines
            ),
            Decimal(0),
        ).quantize(Decimal("0.01"))
        return services.DealSpec(
            crm_id=crm_id,
            name=f"{account.name} — {['New business', 'Expansion', 'Renewal'][number % 3]} {number}",
            account=account,
            owner=sales[number % 2],
            currency=currency,
            start_date=date(2026, 1 + number % 12, 1 if number % 4 else 15),
            term_months=72 if target == "manual_review" and number % 2 else term,
            billing_frequency=billing_frequency,
            payment_terms=payment_terms,
            ae_notes=notes,
            close_date=date(2025, 12, 1 + number % 28),
            crm_amount=crm_amount,
            lines=lines,
            contacts=[services.ContactSpec(account.contacts.first(), "Signer", True)],
        )

    @transaction.atomic
    def _move(self, deal: Deal, target: str, users) -> None:
        """Walk a new deal to its demo state through the real services, step by step."""
        bot = services.pipeline_user()
        deal = services.deal_classify_and_price(deal_id=deal.pk, actor=bot)
        if deal.state != "drafting" or target == "drafting":
            return  # the pipeline sent it to manual review, or drafting is its demo state
        if target in ("cancelled", "manual_review"):
            service, reason = {
                "cancelled": (services.deal_cancel, "Customer withdrew after procurement review."),
                "manual_review": (
                    services.deal_send_to_manual_review,
                    "Customer asked to co-term with an existing order; needs a person.",
                ),
            }[target]
            service(deal_id=deal.pk, actor=users["dana.desk"], reason=reason)
            return
        # Every later state has a contract, drafted as the pipeline drafts it.
        version = contract_services.contract_draft(deal_id=deal.pk, actor=bot)
        if version is None:
            return  # rendering failed: the deal is in manual review with the reason
        legal = users["lee.legal"]
        if target == "changes_requested":
            contract_services.contract_request_changes(
                version_id=version.pk,
                actor=legal,
                reason="Liability wording conflicts with the MSA; ask AE to confirm the cap.",
            )
            return
        # Gates run and approval requests open as the pipeline would (it is held here).
        approval_services.approvals_evaluate(deal_id=deal.pk, actor=bot)
        if target == "approved" or target in WAITING_ON or target in SIGNATURES_GIVEN:
            version.refresh_from_db()
            if version.state == "legal_review":
                contract_services.contract_approve(version_id=version.pk, actor=legal)
            # approvals_evaluate approves the deal, or leaves it waiting on its group.
            self._grant_approvals(deal, users, bot, waiting_on=WAITING_GROUP.get(target))
        if target in SIGNATURES_GIVEN:
            sign_for_demo(deal, signatures=SIGNATURES_GIVEN[target], bot=bot)
        if target in BILLED:
            # Billed on the local ledger as the pipeline would: its first invoice issued,
            # drawn and mailed when its day has come (later ones wait for theirs).
            billing_services.billing_start(deal_id=deal.pk, actor=bot)
            billing_services.invoices_issue_for_deal(deal_id=deal.pk, actor=bot)
            for pk in Invoice.objects.filter(deal=deal, state="issued").values_list(
                "pk", flat=True
            ):
                invoice_deliver(invoice_id=pk, actor=bot)
        if share := PAID_SHARE.get(target):
            pay_for_demo(deal, share, finance=users["fran.finance"])

    def _grant_approvals(self, deal: Deal, users, bot, *, waiting_on: str | None = None) -> None:
        """Each open request approved by the demo user of its group, step after step, but
        those of `waiting_on`: the deal stops when only that group's requests are open."""
        deciders = {
            user.groups.first().name: user for user in users.values() if user.groups.exists()
        }
        approval_services.approvals_evaluate(deal_id=deal.pk, actor=bot)  # legal approved
        while pending := list(
            ApprovalRequest.objects.filter(deal=deal, state="pending")
            .exclude(group__name=waiting_on)
            .select_related("group")
        ):
            for request in pending:
                approval_services.approval_request_decide(
                    request_id=request.pk,
                    actor=deciders[request.group.name],
                    approve=True,
                    reason="Within what we agreed for this account.",
                )
            approval_services.approvals_evaluate(deal_id=deal.pk, actor=bot)


# Who countersigns for us up to which TCV (USD; None: above every limit), as Finance keeps it.
SIGNING_AUTHORITIES = [
    ("dana.desk", "Deal Desk director", Decimal(250_000)),
    ("cara.cfo", "CFO", Decimal(2_000_000)),
    ("cole.ceo", "CEO", None),
]


def seed_signing_authorities(users: dict) -> None:
    """Each demo signer's authority, granted by Finance through the admin's service, once."""
    for username, title, max_tcv in SIGNING_AUTHORITIES:
        if not SigningAuthority.objects.filter(user=users[username]).exists():
            signing_authority_save(
                authority=SigningAuthority(user=users[username], title=title, max_tcv=max_tcv),
                actor=users["fran.finance"],
            )


# Demo deals sent for signature on the local backend: how many of their signers (customer
# first, then our countersigner) have signed. Two signatures: signed, executed PDF sealed.
SIGNATURES_GIVEN = {
    "out_for_signature": 0,
    "countersigning": 1,
    "signed": 2,
    "billing": 2,
    "billing_exception": 2,
    "invoiced": 2,
    "paid": 2,
    "partially_paid": 2,
}
# Signed demo deals the pipeline bills (the held pipeline would have on Deal:signed).
BILLED = {"billing", "billing_exception", "invoiced", "paid", "partially_paid"}
DEMO_SIGNER_IP = "192.0.2.10"  # TEST-NET-1: an address that is no one's
DEMO_SIGNER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) Dealdesk demo"


def sign_for_demo(deal: Deal, *, signatures: int, bot) -> None:
    """Send the approved deal for signature and have its first `signatures` signers sign
    through their links, as the pipeline (held here) and the signing page would."""
    if settings.ESIGN_BACKEND != Backend.LOCAL:
        return  # the demo signs on our own page only; the deal waits at approved
    request = esign_services.signature_send(deal_id=deal.pk, actor=bot)
    if request is None or request.state != R.SENT:
        return  # blocked: the draft says why, the deal waits at approved
    esign_services.signature_deliver(request_id=request.pk, actor=bot)
    for _ in range(signatures):
        # Whose turn it is: asked to sign, so given a link.
        signer = request.signers.filter(state__in=PENDING_SIGNER_STATES).exclude(link_nonce="")[0]
        esign_services.signer_sign(
            token=signing_token(signer),
            typed_name=signer.name,
            consented=True,
            drawn_signature=None,
            ip=DEMO_SIGNER_IP,
            user_agent=DEMO_SIGNER_AGENT,
        )
        esign_services.signature_advance(request_id=request.pk, actor=bot)


def signing_links(base_url: str) -> list[str]:
    """One line per demo signer whose turn it is, with the link their e-mail would carry."""
    signers = (
        Signer.objects.filter(
            request__deal__crm_id__startswith="006DEMO",
            request__backend=Backend.LOCAL,
            request__state=R.SENT,
            state__in=PENDING_SIGNER_STATES,
        )
        .exclude(link_nonce="")
        .select_related("request__deal")
        .order_by("request__deal__crm_id", "routing_order", "pk")
    )
    base = base_url.rstrip("/")
    return [
        f"{s.request.deal.crm_id} {s.request.deal.name} — {s.name} "
        f"({s.get_role_display().lower()}): {base}{signing_path(s)}"
        for s in signers
    ]
