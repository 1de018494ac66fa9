"""The "Out for signature" list: who waits on whom, filters, sorting, paging, queries."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from contracts.esign.models import SignatureRequest, Signer
from tests.dealdesk.factories import DealFactory

pytestmark = pytest.mark.django_db


def more_requests(like: SignatureRequest, count: int, *, waiting_on: str = "customer") -> list:
    """`count` more deals out for signature, straight in the database (the list's reads are
    under test, not the pipeline), each waiting on its customer or on our countersigner."""
    made = []
    for n in range(count):
        request = SignatureRequest.objects.create(
            deal=DealFactory(
                name=f"Extra {waiting_on} {n}", crm_id=f"X-{waiting_on}-{n}", tcv=1000 + n
            ),
            version=like.version,
            backend="local",
            state="sent",
            document_sha256=like.document_sha256,
            created_by=like.created_by,
            sent_at=timezone.now() - timedelta(days=n + 1),
            expires_at=timezone.now() + timedelta(days=20),
        )
        customer_state, us_state = (
            ("notified", "waiting") if waiting_on == "customer" else ("signed", "notified")
        )
        Signer.objects.create(
            request=request,
            role="customer",
            routing_order=1,
            name=f"Cust {n}",
            email=f"c{n}@x.test",
            state=customer_state,
            notified_at=request.sent_at,
        )
        Signer.objects.create(
            request=request,
            role="countersigner",
            routing_order=2,
            name="Cara Chen",
            email="cara@dealdesk.test",
            state=us_state,
            notified_at=request.sent_at if us_state == "notified" else None,
        )
        made.append(request)
    return made


def listing(client, user, query=""):
    client.force_login(user)
    response = client.get(reverse("esign-desk:list") + query)
    assert response.status_code == 200
    return response.content.decode()


def test_the_list_says_who_each_request_waits_on_and_since_when(client, desk, out_for_signature):
    deal = out_for_signature()
    request = SignatureRequest.objects.get(deal=deal)
    customer = request.signers.get(role="customer")
    html = listing(client, desk)
    assert deal.name in html
    assert deal.account.name in html
    assert "Jordan Signer (customer)" in html
    assert f'data-testid="remind-{customer.pk}"' in html
    assert f'data-testid="copy-link-{customer.pk}"' in html
    assert f'data-testid="void-{request.pk}"' in html


def test_filters_by_whom_it_waits_on(client, desk, won_deal, approve, countersigner):
    blocked = won_deal(name="Blocked deal")
    blocked.contact_roles.all().delete()
    approve(blocked)
    like = SignatureRequest.objects.get(deal=blocked)
    (theirs,) = more_requests(like, 1, waiting_on="customer")
    (ours,) = more_requests(like, 1, waiting_on="us")

    def rows(query):
        html = listing(client, desk, query)
        return {r.pk for r in (like, theirs, ours) if f'data-testid="signature-row-{r.pk}"' in html}

    assert rows("") == {like.pk, theirs.pk, ours.pk}
    assert rows("?waiting=customer") == {theirs.pk}
    assert rows("?waiting=us") == {ours.pk}
    assert rows("?waiting=blocked") == {like.pk}
    assert rows("?waiting=everyone") == set()  # a refused filter lists nothing
    assert "Cara Chen (countersigner)" in listing(client, desk, "?waiting=us")


def test_sorted_by_age_and_paged(client, desk, out_for_signature):
    deal = out_for_signature()
    like = SignatureRequest.objects.get(deal=deal)
    extra = more_requests(like, 3)
    oldest_first = listing(client, desk)
    positions = [oldest_first.index(f'signature-row-{r.pk}"') for r in reversed(extra)]
    assert positions == sorted(positions)
    newest_first = listing(client, desk, "?sort=-since")
    assert newest_first.index(f'signature-row-{like.pk}"') < newest_first.index(
        f'signature-row-{extra[0].pk}"'
    )
    # An unknown sort falls back to the default: waiting longest first.
    assert listing(client, desk, "?sort=bogus").index(f'signature-row-{extra[-1].pk}"') < (
        listing(client, desk, "?sort=bogus").index(f'signature-row-{like.pk}"')
    )


def test_the_list_reads_in_the_same_queries_however_many_rows(
    client, desk, out_for_signature, django_assert_max_num_queries
):
    deal = out_for_signature()
    like = SignatureRequest.objects.get(deal=deal)
    client.force_login(desk)
    url = reverse("esign-desk:list")
    client.get(url)
    # Session, user, permissions (2), the count, the page, its signers, the bell, the groups.
    with django_assert_max_num_queries(9) as few:
        client.get(url)
    more_requests(like, 12)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(url).content.decode()
    assert html.count('data-testid="signature-row-') == 13


def test_only_those_who_see_signature_requests_open_the_list(client, make_user):
    client.force_login(make_user("Sales", username="ae"))
    assert client.get(reverse("esign-desk:list")).status_code == 403
    for role in ("Auditor", "Finance", "Legal"):
        html = listing(client, make_user(role, username=f"u_{role}"))
        assert "Nothing is out for signature." in html
