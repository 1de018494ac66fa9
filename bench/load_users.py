"""The load test's people (a locustfile, run by `bench/bench_load.py` as `locust -f`).

Each simulated person logs in through the real login form (the CSRF token from the form,
then the TOTP code page for approvers, whose accounts have a device) and then opens the pages
their role opens every day, with a few seconds' thought between clicks. A page counts as
wrong (an error) unless it answers 200 at the URL asked for, logged in (the logout button
is on it): a redirect to the login or code page is a failure, not a success.

Environment: LOAD_PEOPLE, the JSON file bench/load_book.py wrote (accounts per role, deal
and contract ids to open); LOAD_SAMPLES, where every request's (name, ms, error, when) is written
when locust stops, so the bench computes exact percentiles rather than locust's rounded ones.
"""

import itertools
import json
import os
import random
import re
import time
from binascii import unhexlify
from pathlib import Path

from django_otp.oath import totp  # stdlib-only module: no Django settings needed
from locust import HttpUser, between, events, task

from bench.load_book import EXCEPTION

PEOPLE = json.loads(Path(os.environ["LOAD_PEOPLE"]).read_text(encoding="utf-8"))
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
INBOX_ITEM = re.compile(
    r'<form method="post" action="(/inbox/(?:un)?assign/)"[^>]*>.*?'
    r'name="kind" value="([^"]*)".*?name="key" value="([^"]*)"',
    re.DOTALL,
)
LOGGED_IN = 'data-testid="logout"'
SAMPLES: list[tuple[str, float, str, float]] = []  # name, ms, error, when (epoch s)
# One account per simulated person of an approving role: a TOTP code counts once per device.
NEXT_ACCOUNT = {role: itertools.count() for role in PEOPLE["accounts"]}


@events.request.add_listener
def _sample(name, response_time, exception, **kwargs) -> None:
    error = "" if exception is None else str(exception)[:300]
    SAMPLES.append((name, response_time, error, time.time()))


@events.user_error.add_listener
def _user_error(user_instance, exception, tb, **kwargs) -> None:
    """An exception in a person's code (a login that went wrong) is an error too."""
    name = type(user_instance).__name__
    error = f"{name}: {type(exception).__name__}: {exception}"[:300]
    SAMPLES.append((EXCEPTION, 0.0, error, time.time()))


@events.quitting.add_listener
def _write_samples(**kwargs) -> None:
    with open(os.environ["LOAD_SAMPLES"], "w", encoding="utf-8") as out:
        json.dump(SAMPLES, out)


class Person(HttpUser):
    abstract = True
    role = ""
    wait_time = between(1, 5)  # a person reads the page before the next click

    def on_start(self) -> None:
        accounts = PEOPLE["accounts"][self.role]
        self.account = accounts[next(NEXT_ACCOUNT[self.role]) % len(accounts)]
        self.deals = PEOPLE["deals"].get(self.account["username"]) or PEOPLE["deals"]["all"]
        page = self.client.get("/login/", name="login form")
        form = {
            "username": self.account["username"],
            "password": self.account["password"],
            "csrfmiddlewaretoken": self._csrf(page.text),
            "next": "/deals/",
        }
        # Approvers land on the code page (they have a device), everyone else on the deals.
        two_factor = bool(self.account["totp_key"])
        landing = "/account/two-factor/verify/" if two_factor else "/deals/"
        answer = self.post("/login/", form, "login", landing)
        if two_factor:
            key = unhexlify(self.account["totp_key"])
            form = {"token": f"{totp(key):06d}", "csrfmiddlewaretoken": self._csrf(answer.text)}
            self.post(answer.url, form, "two-factor code", "/deals/")

    def post(self, url: str, form: dict, name: str, landing: str):
        """POST a form; a failure unless it ends (after redirects) with 200 on `landing`."""
        with self.client.post(url, form, name=name, catch_response=True) as answer:
            if answer.status_code != 200 or landing not in answer.url:
                answer.failure(f"HTTP {answer.status_code} at {answer.url}, not {landing}")
            return answer

    @staticmethod
    def _csrf(html: str) -> str:
        found = CSRF_FIELD.search(html)
        return found.group(1) if found else ""

    def page(self, url: str, name: str) -> str:
        """GET a page; anything but 200 at that URL, logged in, is recorded as a failure."""
        with self.client.get(url, name=name, catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"HTTP {answer.status_code} at {url}")
            elif not answer.url.split("?")[0].endswith(url.split("?")[0]):
                answer.failure(f"{url} landed on {answer.url}")
            elif LOGGED_IN not in answer.text:
                answer.failure(f"{url} answered a page without the logged-in header")
            return answer.text

    def deal_page(self) -> None:
        self.page(f"/deals/{random.choice(self.deals)}/", "deal page")

    def deal_list(self) -> None:
        query = random.choice(PEOPLE["deal_filters"])
        self.page(f"/deals/{query}", "deal list (filtered)" if query else "deal list")


class DealDesk(Person):
    role = "Deal Desk"
    weight = 3

    @task(4)
    def deals(self) -> None:
        self.deal_list()

    @task(4)
    def deal(self) -> None:
        self.deal_page()

    @task(3)
    def inbox(self) -> None:
        html = self.page("/inbox/", "inbox")
        found = INBOX_ITEM.search(html)
        if found and random.random() < 0.3:  # now and then take (or hand back) an item
            action, kind, key = found.groups()
            form = {"kind": kind, "key": key, "next": "/inbox/"}
            form["csrfmiddlewaretoken"] = self._csrf(html)
            self.post(action, form, "inbox assign/hand back (POST)", "/inbox/")

    @task(2)
    def approvals(self) -> None:
        self.page("/approvals/", "my approvals")

    @task(1)
    def crm(self) -> None:
        self.page("/crm/", "CRM sync page")


class Legal(Person):
    role = "Legal"
    weight = 2

    @task(3)
    def review_queue(self) -> None:
        self.page("/contracts/review/", "legal review queue")

    @task(3)
    def contract(self) -> None:
        self.page(f"/contracts/{random.choice(PEOPLE['contracts'])}/", "contract version")

    @task(2)
    def deal(self) -> None:
        self.deal_page()

    @task(1)
    def approvals(self) -> None:
        self.page("/approvals/", "my approvals")


class Finance(Person):
    role = "Finance"
    weight = 2

    @task(3)
    def invoices(self) -> None:
        self.page("/billing/invoices/", "invoices")

    @task(3)
    def ar(self) -> None:
        self.page("/billing/ar/", "AR queue")

    @task(2)
    def payments(self) -> None:
        self.page("/billing/payments/", "payments")

    @task(2)
    def exceptions(self) -> None:
        # Where the Billing menu item lands (/billing/ redirects here).
        self.page("/billing/exceptions/", "billing exceptions")

    @task(1)
    def approvals(self) -> None:
        self.page("/approvals/", "my approvals")

    @task(1)
    def deal(self) -> None:
        self.deal_page()


class Executive(Person):
    role = "Executive"
    weight = 1

    @task(3)
    def dashboard(self) -> None:
        self.page("/insights/", "dashboard")

    @task(2)
    def approvals(self) -> None:
        self.page("/approvals/", "my approvals")

    @task(1)
    def deals(self) -> None:
        self.deal_list()

    @task(1)
    def deal(self) -> None:
        self.deal_page()


class Auditor(Person):
    role = "Auditor"
    weight = 1

    @task(3)
    def audit_log(self) -> None:
        self.page("/audit/", "audit log")

    @task(1)
    def evidence(self) -> None:
        self.page("/audit/evidence/", "audit evidence")

    @task(2)
    def deal(self) -> None:
        self.deal_page()

    @task(1)
    def deals(self) -> None:
        self.deal_list()


class Sales(Person):
    role = "Sales"
    weight = 3

    @task(3)
    def deals(self) -> None:
        self.deal_list()

    @task(3)
    def deal(self) -> None:
        self.deal_page()

    @task(1)
    def notifications(self) -> None:
        self.page("/notifications/", "notifications")
