"""The pipeline bench's book: the demo company, and N won deals written as a CRM file bundle.

The deals are the seed generator's (`seed_demo`'s `_deal_spec`: its patterns, sizes,
currencies and notes, its targets drawn in STATE_PLAN's proportions), written as the records
Salesforce's REST API returns, so they enter through the real `crm_sync` as production deals do:
all at once, or night by night as they close (`Book.write(through=night)`).
"""

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bench.harness import ROOT

DEMO_BUNDLE = ROOT / "dealdesk" / "demo" / "crm_bundle.json"
STAMP = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
# What a deal closing brings into the CRM: its opportunity, lines and signer role.
CLOSED_OBJECTS = ("Opportunity", "OpportunityLineItem", "OpportunityContactRole")


def setup_company() -> dict:
    """The demo company without its deals: users and groups, CRM owners, products, accounts
    (with their signer contacts) and signing authorities, as `seed_demo` makes them."""
    from django.apps import apps

    from contracts.reference_data import install_contract_reference_data
    from dealdesk.crm.models import CrmOwner
    from dealdesk.management.commands import seed_demo
    from dealdesk.reference_data import install_reference_data

    install_reference_data(apps)
    install_contract_reference_data(apps)
    command = seed_demo.Command()
    users = command._users()
    for salesforce_user_id, username in seed_demo.CRM_OWNERS:
        CrmOwner.objects.get_or_create(
            salesforce_user_id=salesforce_user_id, defaults={"user": users[username]}
        )
    products = command._products()
    accounts = command._accounts()
    seed_demo.seed_signing_authorities(users)
    return {"users": users, "products": products, "accounts": accounts, "command": command}


def _stamp(minutes: int, days: int = 0) -> str:
    return (STAMP + timedelta(days=days, minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _targets(rng: random.Random, count: int) -> Iterator[str]:
    """Demo targets in STATE_PLAN's proportions: the targets that shape a deal's terms."""
    from dealdesk.management.commands.seed_demo import STATE_PLAN

    population = [target for target, n in STATE_PLAN for _ in range(n)]
    for _ in range(count):
        yield rng.choice(population)


@dataclass(frozen=True)
class Book:
    """The won deals as CRM records, in CRM id order: per deal its opportunity, lines and
    signer role, and the demo bundle's accounts and products (the company already has them)."""

    demo: dict
    deals: list[tuple[dict, list[dict], dict]]

    def night_of(self, index: int, nights: int) -> int:
        """Which of `nights` closing nights deal `index` closes on: consecutive even batches."""
        return index * nights // len(self.deals)

    def write(self, path: Path, *, nights: int = 1, through: int | None = None) -> list[str]:
        """The CRM as it stands after closing night `through` (None: the last): the deals
        closed by then, each stamped on its night (a day apart, the last on STAMP's day), so
        an incremental sync after a night fetches that night's deals only. Returns the CRM ids
        of the deals that closed on night `through`."""
        last = nights - 1 if through is None else through
        bundle = {name: self.demo[name] for name in ("Account", "Product2")}
        bundle |= {name: [] for name in CLOSED_OBJECTS}
        closed = []
        for index, (opportunity, lines, role) in enumerate(self.deals):
            night = self.night_of(index, nights)
            if night > last:
                break
            stamp = _stamp((index + 1) % 900, days=night - nights + 1)
            for name, records in zip(CLOSED_OBJECTS, ([opportunity], lines, [role]), strict=True):
                bundle[name] += [{**record, "SystemModstamp": stamp} for record in records]
            if night == last:
                closed.append(opportunity["Id"])
        path.write_text(json.dumps(bundle), encoding="utf-8")
        return closed


def make_book(deals: int, company: dict, *, seed: int = 2026) -> Book:
    """`deals` won opportunities of the seed generator's mix, with their lines and signer
    roles, as Salesforce's REST API returns them (stamped when written)."""
    from dealdesk.management.commands.seed_demo import CRM_OWNERS

    demo = json.loads(DEMO_BUNDLE.read_text(encoding="utf-8"))
    owner_ids = {username: sf_id for sf_id, username in CRM_OWNERS}
    users, products, accounts = company["users"], company["products"], company["accounts"]
    sales = [users["sam.sales"], users["alex.sales"]]
    rng = random.Random(seed)  # a fixed seed: the same book every run
    book = []
    for number, target in enumerate(_targets(rng, deals), start=1):
        crm_id = f"006P{number:08d}"
        spec = company["command"]._deal_spec(rng, number, crm_id, target, sales, products, accounts)
        opportunity = {
            "attributes": {"type": "Opportunity"},
            "Id": crm_id,
            "Name": spec.name,
            "AccountId": spec.account.crm_id,
            "OwnerId": owner_ids[spec.owner.username],
            "StageName": "Closed Won",
            "IsWon": True,
            "CloseDate": spec.close_date.isoformat(),
            "Amount": float(spec.crm_amount),
            "Description": spec.ae_notes,
            "Contract_Start_Date__c": spec.start_date.isoformat(),
            "Contract_Term_Months__c": spec.term_months,
            "Billing_Frequency__c": spec.billing_frequency.title(),
            "Payment_Terms__c": f"Net {spec.payment_terms}",
            "CurrencyIsoCode": spec.currency,
            "IsDeleted": False,
        }
        lines = []
        for k, line in enumerate(spec.lines, start=1):
            price = line.list_unit_price or line.product.list_price
            lines.append(
                {
                    "attributes": {"type": "OpportunityLineItem"},
                    "Id": f"00kP{number:08d}{k:02d}",
                    "OpportunityId": crm_id,
                    "Product2Id": f"01t{line.product.sku}",
                    "ProductCode": line.product.sku,
                    "Quantity": float(line.quantity),
                    "UnitPrice": float(price),
                    "ListPrice": float(price),
                    "Discount": float(line.discount_pct or Decimal(0)),
                    "TotalPrice": None,
                    "ServiceDate": None,
                    "Segment_Index__c": line.segment_index,
                    "CurrencyIsoCode": spec.currency,
                    "IsDeleted": False,
                }
            )
        contact = spec.contacts[0].contact
        role = {
            "attributes": {"type": "OpportunityContactRole"},
            "Id": f"00KP{number:08d}",
            "OpportunityId": crm_id,
            "ContactId": contact.crm_id,
            "Role": "Signer",
            "IsPrimary": True,
            "Contact": {
                "attributes": {"type": "Contact"},
                "Name": contact.name,
                "Email": contact.email,
            },
            "IsDeleted": False,
        }
        book.append((opportunity, lines, role))
    return Book(demo=demo, deals=book)


def write_bundle(path: Path, deals: int, company: dict, *, seed: int = 2026) -> None:
    """The whole book as one file bundle, every deal closed at once."""
    make_book(deals, company, seed=seed).write(path)
