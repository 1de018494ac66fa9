"""The load test's book and people (bench/bench_load.py): what the simulated users open.

The book: `seed_demo` (its 40 deals walked into every state, with approvals, contracts,
invoices, payments and an AR item) plus `--book` won deals of the seed generator's mix
imported by the real `sync_crm` and taken through classify-and-price, so lists and queues are
not toy-sized. The people: one account per simulated person of each approving role, with a
confirmed TOTP device (REQUIRE_2FA is on, as production asks of approvers), and the demo's
two sales reps (their own deals only).
"""

import json
import secrets
from pathlib import Path

from bench.pipeline_book import write_bundle

PASSWORD = "load-bench-password"  # noqa: S105 - throwaway accounts in a throwaway cluster
# Who logs in as whom; the approving roles also need a TOTP device (REQUIRE_2FA).
OWN_ACCOUNTS = ("Deal Desk", "Legal", "Finance", "Executive", "Auditor")
SALES_REPS = ("sam.sales", "alex.sales")
# load_users.py's sample for an exception in a person's code: an error, with no time.
EXCEPTION = "exception in a person's code"
DEAL_FILTERS = ["", "", "?state=in_review", "?state=drafting", "?state=approved", "?q=Platform"]


def write_load_bundle(path: Path, deals: int, company: dict, *, prefix: str) -> None:
    """write_bundle's book with its own CRM ids (006P… becomes 006<prefix>…), so a second
    bundle imports new deals rather than updating the first one's."""
    write_bundle(path, deals, company)
    text = path.read_text(encoding="utf-8")
    for kind in ('"006P', '"00kP', '"00KP'):
        text = text.replace(kind, kind[:-1] + prefix)
    path.write_text(text, encoding="utf-8")


def create_people(per_role: int) -> dict[str, list[dict]]:
    """`per_role` accounts in each role of OWN_ACCOUNTS (one password hash for all: hashing
    300 passwords would take minutes), TOTP devices for the approvers."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from dealdesk.management.commands.seed_demo import DEMO_PASSWORD
    from dealdesk.security.sessions import APPROVING_ROLES

    user_model = get_user_model()
    hashed = make_password(PASSWORD)
    accounts: dict[str, list[dict]] = {}
    for role in OWN_ACCOUNTS:
        slug = role.lower().replace(" ", "")
        users = user_model.objects.bulk_create(
            user_model(
                username=f"load.{slug}.{n}",
                first_name=role,
                last_name=f"Person {n}",
                email=f"load.{slug}.{n}@dealdesk.example",
                password=hashed,
            )
            for n in range(per_role)
        )
        Group.objects.get(name=role).user_set.add(*users)
        keys = {}
        if role in APPROVING_ROLES:
            keys = {user.pk: secrets.token_hex(20) for user in users}
            TOTPDevice.objects.bulk_create(
                TOTPDevice(user=user, name="load bench", key=keys[user.pk], confirmed=True)
                for user in users
            )
        accounts[role] = [
            {"username": user.username, "password": PASSWORD, "totp_key": keys.get(user.pk, "")}
            for user in users
        ]
    accounts["Sales"] = [
        {"username": username, "password": DEMO_PASSWORD, "totp_key": ""} for username in SALES_REPS
    ]
    return accounts


def write_people(path: Path, per_role: int) -> dict:
    """The locustfile's LOAD_PEOPLE: accounts, and the deals and contracts to open."""
    from contracts.models import ContractVersion
    from dealdesk.models import Deal

    deals = {"all": list(Deal.objects.values_list("pk", flat=True))}
    for username in SALES_REPS:
        deals[username] = list(
            Deal.objects.filter(owner__username=username).values_list("pk", flat=True)
        )
    people = {
        "accounts": create_people(per_role),
        "deals": deals,
        "contracts": list(ContractVersion.objects.values_list("pk", flat=True)),
        "deal_filters": DEAL_FILTERS,
    }
    path.write_text(json.dumps(people), encoding="utf-8")
    return people
