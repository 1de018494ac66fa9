"""Who countersigns for us (Finance's signing authority table) and who signs for the customer
(the deal's contact roles), and the order they sign in."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from contracts.esign.models import SigningAuthority
from contracts.esign.selectors import (
    COUNTERSIGNER,
    CUSTOMER,
    NoCountersigner,
    NoCustomerSigner,
    RouteStep,
    countersigner_for,
    customer_signers,
    signing_route,
)
from dealdesk.models import DealContact, DealTermsEdit
from dealdesk.roles import Role
from tests.dealdesk.factories import ContactFactory, DealFactory, UserFactory

pytestmark = pytest.mark.django_db


def _authority(username: str, title: str, max_tcv: str | None, **fields) -> SigningAuthority:
    user = UserFactory(username=username, first_name=username.capitalize(), last_name="Signer")
    return SigningAuthority.objects.create(
        user=user, title=title, max_tcv=None if max_tcv is None else Decimal(max_tcv), **fields
    )


@pytest.fixture
def table():
    """The issue's example: Deal Desk director ≤ 250,000, CFO ≤ 2,000,000, CEO above."""
    # Created out of order: the choice must follow the limits, not the row ids.
    ceo = _authority("ceo", "CEO", None)
    cfo = _authority("cfo", "CFO", "2000000")
    director = _authority("director", "Deal Desk director", "250000")
    return {"director": director, "cfo": cfo, "ceo": ceo}


def _deal(tcv: str | None, currency: str = "USD", **fields):
    return DealFactory(tcv=None if tcv is None else Decimal(tcv), currency=currency, **fields)


def _role(deal, name: str, email: str, role: str = "Signer", is_primary: bool = False):
    contact = ContactFactory(account=deal.account, name=name, email=email)
    return DealContact.objects.create(deal=deal, contact=contact, role=role, is_primary=is_primary)


@pytest.mark.parametrize(
    ("tcv", "expected"),
    [
        ("100000", "director"),
        ("250000", "director"),  # the limit itself is covered
        ("250000.01", "cfo"),
        ("2000000", "cfo"),
        ("2000000.01", "ceo"),  # above every limit: the unlimited row
        ("90000000", "ceo"),
    ],
)
def test_the_smallest_limit_covering_the_tcv_countersigns(table, tcv, expected):
    signer = countersigner_for(_deal(tcv))
    authority = table[expected]
    assert (signer.authority_id, signer.user_id) == (authority.pk, authority.user_id)
    assert (signer.title, signer.email) == (authority.title, authority.user.email)
    assert signer.name == f"{expected.capitalize()} Signer"
    assert signer.tcv_in_policy_currency == Decimal(tcv)


def test_no_limit_covering_the_tcv_is_a_reason_for_deal_desk():
    _authority("director", "Deal Desk director", "250000")
    deal = _deal("300000", name="Acme renewal")
    with pytest.raises(NoCountersigner) as caught:
        countersigner_for(deal)
    assert caught.value.reason == (
        "Nobody has signing authority for deal Acme renewal's TCV of 300,000.00 USD: Finance "
        "adds or extends one in the admin (E-signature → Signing authorities)."
    )


def test_an_empty_table_is_a_reason_too():
    with pytest.raises(NoCountersigner, match="Nobody has signing authority"):
        countersigner_for(_deal("1"))


def test_the_deal_owner_never_countersigns_the_next_limit_does(table):
    deal = _deal("100000", owner=table["director"].user)
    assert countersigner_for(deal).authority_id == table["cfo"].pk


def test_whoever_edited_the_terms_never_countersigns(table):
    deal = _deal("100000", terms_edited_by=table["director"].user)
    assert countersigner_for(deal).authority_id == table["cfo"].pk
    deal = _deal("100000")
    DealTermsEdit.objects.create(deal=deal, editor=table["cfo"].user, what="discount")
    deal.terms_edited_by = table["director"].user  # a later editor does not clear the first
    assert countersigner_for(deal).authority_id == table["ceo"].pk


def test_when_everyone_is_barred_the_reason_names_who_and_why():
    director = _authority("director", "Deal Desk director", "250000")
    deal = _deal("100000", owner=director.user, name="Acme renewal")
    with pytest.raises(NoCountersigner) as caught:
        countersigner_for(deal)
    reason = caught.value.reason
    assert reason.startswith("Nobody may countersign deal Acme renewal (TCV 100,000.00 USD): ")
    assert "Director Signer (Deal Desk director): director owns deal" in reason
    assert reason.endswith(
        "Finance adds another signing authority in the admin (E-signature → Signing authorities)."
    )


def test_a_holder_without_an_email_address_cannot_be_sent_the_envelope(table):
    table["director"].user.email = ""
    table["director"].user.save()
    assert countersigner_for(_deal("100000")).authority_id == table["cfo"].pk


def test_inactive_expired_future_and_deactivated_user_rows_are_ignored(table):
    today = timezone.localdate()
    table["director"].active = False
    table["director"].save()
    _authority("expired", "Interim director", "250000", valid_to=today - timedelta(days=1))
    _authority("future", "Next director", "250000", valid_from=today + timedelta(days=1))
    gone = _authority("gone", "Former director", "250000")
    gone.user.is_active = False
    gone.user.save()
    assert countersigner_for(_deal("100000")).authority_id == table["cfo"].pk
    # The first and last days of a validity are inside it.
    today_only = _authority("today", "Acting director", "250000", valid_from=today, valid_to=today)
    assert countersigner_for(_deal("100000")).authority_id == today_only.pk


def test_equal_limits_go_to_the_row_added_first():
    first = _authority("first", "Deal Desk director", "250000")
    _authority("second", "Deal Desk director", "250000")
    assert countersigner_for(_deal("1000")).authority_id == first.pk


def test_a_tcv_in_another_currency_is_converted_at_the_policy_rate(table):
    # The approvals' reference rate: 1 EUR = 1.08 USD.
    signer = countersigner_for(_deal("240000", currency="EUR"))
    assert signer.tcv_in_policy_currency == Decimal("259200.00")
    assert signer.authority_id == table["cfo"].pk  # 240,000 EUR is above 250,000 USD
    SigningAuthority.objects.exclude(pk=table["director"].pk).update(active=False)
    with pytest.raises(NoCountersigner, match=r"260,000\.00 EUR \(280,800\.00 USD\)"):
        countersigner_for(_deal("260000", currency="EUR"))


def test_a_currency_without_a_policy_rate_is_a_reason(table):
    with pytest.raises(NoCountersigner, match="no policy exchange rate for JPY"):
        countersigner_for(_deal("1000000", currency="JPY"))


def test_a_deal_not_priced_yet_has_no_countersigner(table):
    with pytest.raises(NoCountersigner, match="has no TCV yet"):
        countersigner_for(_deal(None))


def test_customer_signers_come_from_the_contact_roles_primary_first():
    deal = _deal("1000")
    _role(deal, "Dee Decider", "dee@acme.test", role="Decision Maker")
    _role(deal, "Ivy Influencer", "ivy@acme.test", role="Influencer")  # does not sign
    _role(deal, "Nell No-mail", "", role="Signer")  # cannot be sent an envelope
    _role(deal, "Pat Primary", "pat@acme.test", role="Business User", is_primary=True)
    _role(deal, "Dee Again", "DEE@acme.test", role="signer")  # the same person, once
    assert [(s.name, s.email) for s in customer_signers(deal)] == [
        ("Pat Primary", "pat@acme.test"),
        ("Dee Decider", "dee@acme.test"),
    ]


def test_no_customer_signer_with_an_email_is_a_reason_for_deal_desk():
    deal = _deal("1000", name="Acme renewal")
    _role(deal, "Nell No-mail", "", role="Signer", is_primary=True)
    _role(deal, "Ivy Influencer", "ivy@acme.test", role="Influencer")
    with pytest.raises(NoCustomerSigner) as caught:
        customer_signers(deal)
    assert caught.value.reason == (
        'Deal Acme renewal has no customer signer with an e-mail address: add a "Signer" '
        "contact role, with the contact's e-mail, to the opportunity in the CRM and sync."
    )


@pytest.fixture
def routed_deal(table):
    deal = _deal("100000")
    _role(deal, "Pat Primary", "pat@acme.test", is_primary=True)
    _role(deal, "Sam Second", "sam@acme.test")
    return deal


def test_customer_first_is_the_default_and_our_countersignature_comes_last(
    routed_deal, table, settings
):
    settings.ESIGN_ROUTING_ORDER = "customer_first"
    director = table["director"].user
    ours = (COUNTERSIGNER, "Director Signer", director.email, director.pk)
    assert signing_route(routed_deal) == [
        RouteStep(1, CUSTOMER, "Pat Primary", "pat@acme.test", None),
        RouteStep(2, CUSTOMER, "Sam Second", "sam@acme.test", None),
        RouteStep(3, *ours),
    ]
    assert signing_route(routed_deal, order="us_first") == [
        RouteStep(1, *ours),
        RouteStep(2, CUSTOMER, "Pat Primary", "pat@acme.test", None),
        RouteStep(3, CUSTOMER, "Sam Second", "sam@acme.test", None),
    ]
    assert signing_route(routed_deal, order="parallel") == [
        RouteStep(1, CUSTOMER, "Pat Primary", "pat@acme.test", None),
        RouteStep(1, CUSTOMER, "Sam Second", "sam@acme.test", None),
        RouteStep(1, *ours),
    ]


def test_the_setting_chooses_the_order(routed_deal, settings):
    settings.ESIGN_ROUTING_ORDER = "us_first"
    assert [step.role for step in signing_route(routed_deal)] == [
        COUNTERSIGNER,
        CUSTOMER,
        CUSTOMER,
    ]


def test_an_unknown_routing_order_is_refused(routed_deal):
    with pytest.raises(ValueError, match="'sequential' is none of"):
        signing_route(routed_deal, order="sequential")


def test_a_route_without_a_customer_signer_stops_before_looking_for_ours(table):
    with pytest.raises(NoCustomerSigner):
        signing_route(_deal("100000"))


# The admin: Finance keeps the table; every change is audited; nobody else edits it.


def _staff(role: str, username: str):
    return UserFactory(username=username, roles=[role], is_staff=True)


def _form(user, **fields) -> dict:
    return {
        "user": user.pk,
        "title": "Deal Desk director",
        "max_tcv": "250000",
        "active": "on",
        "valid_from": "",
        "valid_to": "",
        **fields,
    }


ADD = reverse("admin:esign_signingauthority_add")


def test_finance_grants_an_authority_with_history_and_an_audit_event(client):
    finance = _staff(Role.FINANCE, "fran")
    holder = UserFactory(username="dana")
    client.force_login(finance)
    assert client.post(ADD, _form(holder)).status_code == 302
    authority = SigningAuthority.objects.get()
    assert (authority.user, authority.max_tcv, authority.currency) == (
        holder,
        Decimal(250000),
        "USD",
    )
    assert authority.history.get().history_user == finance
    event = AuditEvent.objects.get(action="signing_authority.created")
    assert (event.actor, event.object_id) == (finance, str(authority.pk))
    assert event.after["max_tcv"] == "250000.000"

    change = reverse("admin:esign_signingauthority_change", args=[authority.pk])
    assert client.post(change, _form(holder, max_tcv="300000")).status_code == 302
    event = AuditEvent.objects.get(action="signing_authority.changed")
    # Only what changed, before and after.
    assert (event.before, event.after) == ({"max_tcv": "250000.000"}, {"max_tcv": "300000.000"})
    assert authority.history.count() == 2


def test_nobody_grants_themselves_signing_authority(client):
    finance = _staff(Role.FINANCE, "fran")
    client.force_login(finance)
    response = client.post(ADD, _form(finance))
    assert response.status_code == 200
    assert "Nobody grants or changes their own signing authority" in response.content.decode()
    assert not SigningAuthority.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="signing_authority.").exists()


def test_nobody_moves_someone_elses_authority_onto_themselves(client):
    finance = _staff(Role.FINANCE, "fran")
    authority = _authority("dana", "Deal Desk director", "250000")
    client.force_login(finance)
    change = reverse("admin:esign_signingauthority_change", args=[authority.pk])
    response = client.post(change, _form(finance))
    assert response.status_code == 200
    authority.refresh_from_db()
    assert authority.user.username == "dana"


@pytest.mark.parametrize("role", [Role.DEAL_DESK, Role.CFO, Role.EXECUTIVE, Role.LEGAL])
def test_only_finance_changes_the_table(client, role):
    authority = _authority("dana", "Deal Desk director", "250000")
    client.force_login(_staff(role, "someone"))
    assert client.post(ADD, _form(UserFactory(username="x"))).status_code == 403
    change = reverse("admin:esign_signingauthority_change", args=[authority.pk])
    assert client.post(change, _form(authority.user, max_tcv="9999999")).status_code == 403
    authority.refresh_from_db()
    assert authority.max_tcv == Decimal(250000)
    assert SigningAuthority.objects.count() == 1
    assert not AuditEvent.objects.filter(action__startswith="signing_authority.").exists()


def test_auditors_read_the_table_and_its_history_and_change_nothing(client):
    authority = _authority("dana", "Deal Desk director", "250000")
    client.force_login(_staff(Role.AUDITOR, "ana"))
    assert client.get(reverse("admin:esign_signingauthority_changelist")).status_code == 200
    history = reverse("admin:esign_signingauthority_history", args=[authority.pk])
    assert client.get(history).status_code == 200
    assert client.post(ADD, _form(UserFactory(username="x"))).status_code == 403
    auditor_perms = set(
        Group.objects.get(name=Role.AUDITOR).permissions.values_list("codename", flat=True)
    )
    assert {"view_signingauthority", "view_historicalsigningauthority"} <= auditor_perms


def test_finance_holds_the_table_permissions_from_the_migration():
    perms = set(
        Group.objects.get(name=Role.FINANCE)
        .permissions.filter(content_type__app_label="esign")
        .values_list("codename", flat=True)
    )
    assert perms == {
        "add_signingauthority",
        "change_signingauthority",
        "view_signingauthority",
        # and reading signature requests (Deal Desk manages them)
        "view_signaturerequest",
        "view_signer",
    }


def test_the_list_shows_limits_in_words_in_few_queries(
    client, table, django_assert_max_num_queries
):
    for n in range(10):
        _authority(f"extra{n}", "Regional director", "100000")
    client.force_login(_staff(Role.FINANCE, "fran"))
    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:esign_signingauthority_changelist"))
    text = response.content.decode()
    assert "250,000.00 USD" in text
    assert "2,000,000.00 USD" in text
    assert "no limit" in text
    assert "Ceo Signer (ceo)" in text
    assert "Delete" not in text  # deactivated, never deleted: certificates name the row
