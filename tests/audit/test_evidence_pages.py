"""The evidence pages check permission on the server, treat their fields as hostile input and
export nothing on a refusal."""

import pytest

from audit.actions import Action
from audit.models import AuditEvent
from audit.services import audit_record
from tests.dealdesk.factories import DealFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal():
    deal = DealFactory(name="Pages Inc — New business")
    audit_record(actor=None, action=Action.DEAL_OWNER_ASSIGNED, obj=deal, reason="seen")
    return deal


def exports():
    return AuditEvent.objects.filter(action=Action.AUDIT_EVIDENCE_EXPORTED)


@pytest.mark.parametrize("role", ["Sales", "Legal", "Executive"])
def test_only_those_who_may_read_the_audit_log_export_evidence(client, make_user, deal, role):
    client.force_login(make_user(role))
    assert client.post(f"/audit/evidence/deals/{deal.pk}/").status_code == 403
    assert client.get("/audit/evidence/?period=2026&size=5&seed=1").status_code == 403
    assert client.post("/audit/evidence/", {"period": "2026", "size": 5}).status_code == 403
    page = client.get(f"/deals/{deal.pk}/")
    assert b'data-testid="evidence-pack"' not in page.content
    assert not exports().exists()


def test_an_auditor_sees_the_button_and_a_pack_downloads_only_by_post(client, make_user, deal):
    client.force_login(make_user("Auditor"))
    assert b'data-testid="evidence-pack"' in client.get(f"/deals/{deal.pk}/").content
    assert client.get(f"/audit/evidence/deals/{deal.pk}/").status_code == 405
    assert client.post("/audit/evidence/deals/999999/").status_code == 404
    response = client.post(f"/audit/evidence/deals/{deal.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert f'filename="deal-{deal.pk}-evidence.zip"' in response["Content-Disposition"]
    assert exports().get().data["deal_ids"] == [deal.pk]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"period": "2026Q7", "size": "3"}, "is not a period"),
        ({"period": "2026", "size": "0"}, "greater than or equal to 1"),
        ({"period": "2026", "size": "101"}, "less than or equal to 100"),
        ({"period": "2026", "size": "3", "seed": "<script>"}, "A seed is letters"),
        ({"period": "2026", "size": "3", "seed": "x" * 65}, "at most 64"),
    ],
)
def test_hostile_sample_fields_are_refused_in_words(client, make_user, query, message):
    client.force_login(make_user("Auditor"))
    page = client.get("/audit/evidence/", query)
    assert page.status_code == 200
    assert message in page.content.decode()
    assert b'data-testid="sample-download"' not in page.content
    assert client.post("/audit/evidence/", query).status_code == 200  # the form, no zip
    assert not exports().exists()


def test_without_a_seed_the_page_shows_the_one_it_drew(client, make_user, deal):
    client.force_login(make_user("Auditor"))
    page = client.get("/audit/evidence/", {"period": deal.created_at.strftime("%Y"), "size": 3})
    assert page.context["sample"].deal_ids == [deal.pk]
    seed = page.context["sample"].seed
    assert f'name="seed" value="{seed}"' in page.content.decode()
