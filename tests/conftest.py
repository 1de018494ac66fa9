"""Shared fixtures. Postgres-only tests carry @pytest.mark.postgres and skip on SQLite."""

import os
from decimal import Decimal

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls from
# live_server tests are then safe to make (docs/stack-notes.md, gotcha 6).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: run with DATABASE_URL=postgres://...")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _reference_data_in_transactional_tests(request):
    """Put back what the data migrations installed (deal patterns, roles, clause library,
    approval policy) before each transactional test: the one before it ended with a flush,
    which empties every table, so without this a test passes or fails by its place in the run."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction", False)) or (
        not {"transactional_db", "live_server"}.isdisjoint(request.fixturenames)
    )
    if not transactional:
        return
    from django.apps import apps

    from approvals.reference_data import install_approval_reference_data
    from billing.reference_data import install_billing_reference_data
    from contracts.esign.reference_data import install_esign_reference_data
    from contracts.reference_data import install_contract_reference_data
    from dealdesk.reference_data import install_reference_data
    from inbox.reference_data import install_inbox_reference_data
    from insights.reference_data import install_insights_reference_data

    request.getfixturevalue("transactional_db")
    install_reference_data(apps)
    install_contract_reference_data(apps)
    install_approval_reference_data(apps)
    install_esign_reference_data(apps)
    install_billing_reference_data(apps)
    install_inbox_reference_data(apps)
    install_insights_reference_data(apps)


@pytest.fixture
def make_user(db):
    """make_user("Deal Desk") → a user in that group (or none), logged-in ready."""
    from tests.dealdesk.factories import UserFactory

    def make(*roles: str, **fields):
        return UserFactory(roles=list(roles), **fields)

    return make


@pytest.fixture
def desk_user(make_user):
    return make_user("Deal Desk", username="desk", is_staff=True)


@pytest.fixture
def pipeline_user(db):
    from dealdesk.services import pipeline_user

    return pipeline_user()


@pytest.fixture
def fake_salesforce(settings):
    """A local fake Salesforce REST API the real simple-salesforce client talks to."""
    from tests.dealdesk.crm_records import small_org
    from tests.dealdesk.fake_salesforce import FakeSalesforce

    fake = FakeSalesforce(small_org()).start()
    settings.CRM_BACKEND = "salesforce"
    settings.SALESFORCE_INSTANCE_URL = fake.url
    settings.SALESFORCE_SESSION_ID = "test-session"
    settings.CRM_SYNC_BACKOFF_SECONDS = 0
    yield fake
    fake.stop()


@pytest.fixture
def catalog(db):
    """The fake Salesforce org's products: PLAT and SEAT completed by Finance; OLD retired."""
    from tests.dealdesk.factories import ProductFactory

    return [
        ProductFactory(sku="PLAT", name="Platform"),
        ProductFactory(sku="SEAT", name="Seat", billing_interval="month", list_price=Decimal(30)),
        ProductFactory(sku="OLD", name="Retired product", active=False),
    ]
