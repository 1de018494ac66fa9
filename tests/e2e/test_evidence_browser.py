"""An Auditor downloads a deal's evidence pack from the deal page and draws a sample on the
Evidence sample page; both zips verify offline with the pack's own verify.py."""

import datetime
import io
import zipfile

import pytest
from playwright.sync_api import expect

from audit.actions import Action
from audit.models import AuditEvent
from audit.services import audit_anchor_head, audit_record
from tests.audit.test_evidence_pack import run_verify, unpacked
from tests.dealdesk.factories import DealFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def anchors(settings, tmp_path):
    settings.AUDIT_ANCHOR_URL = (tmp_path / "anchors.jsonl").as_uri()


def deal_with_events(name: str):
    deal = DealFactory(name=name)
    for reason in ("first look", "second look"):
        audit_record(actor=None, action=Action.DEAL_OWNER_ASSIGNED, obj=deal, reason=reason)
    return deal


def verify_zip(content: bytes, folder) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    result = run_verify(unpacked(folder, files))
    assert result.returncode == 0, result.stdout
    return result.stdout


@pytest.mark.parametrize("width", [1280, 390])
def test_an_auditor_downloads_a_deals_evidence_pack_and_it_verifies(
    page, live_server, login, screenshot, make_user, tmp_path, width
):
    deal = deal_with_events("Evidence Ltd — Renewal")
    audit_anchor_head()
    make_user("Auditor", username="ann")
    page.set_viewport_size({"width": width, "height": 900})
    login("ann")
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    button = page.get_by_test_id("evidence-pack")
    button.scroll_into_view_if_needed()
    screenshot(f"evidence-deal-button-{width}")
    with page.expect_download() as download:
        button.click()
    assert download.value.suggested_filename == f"deal-{deal.pk}-evidence.zip"
    with open(download.value.path(), "rb") as handle:
        content = handle.read()
    assert verify_zip(content, tmp_path / "pack").startswith("OK: every file")
    export = AuditEvent.objects.get(action=Action.AUDIT_EVIDENCE_EXPORTED)
    assert export.actor_username == "ann"
    assert export.data["via"] == "browser"


@pytest.mark.parametrize("width", [1280, 390])
def test_an_auditor_draws_a_sample_and_downloads_its_packs(
    page, live_server, login, screenshot, make_user, tmp_path, width
):
    deals = [deal_with_events(f"Sampled deal {n}") for n in range(4)]
    make_user("Auditor", username="ann")
    page.set_viewport_size({"width": width, "height": 900})
    login("ann")
    page.goto(f"{live_server.url}/audit/")
    page.get_by_test_id("audit-evidence").click()
    period = datetime.datetime.now(datetime.UTC).strftime("%Y-%m")  # the events are UTC
    page.fill("#id_period", period)
    page.fill("#id_size", "2")
    page.fill("#id_seed", "q4-walkthrough")
    page.get_by_role("button", name="Draw the sample").click()
    expect(page.get_by_test_id("population-size")).to_have_text("4")
    expect(page.get_by_test_id("sample-seed")).to_have_text("q4-walkthrough")
    expect(page.get_by_test_id("sampled-deals").locator("li")).to_have_count(2)
    screenshot(f"evidence-sample-{width}")
    with page.expect_download() as download:
        page.get_by_test_id("sample-download").click()
    with open(download.value.path(), "rb") as handle:
        outer = zipfile.ZipFile(io.BytesIO(handle.read()))
    packs = sorted(name for name in outer.namelist() if name.endswith("-evidence.zip"))
    assert len(packs) == 2
    assert "sample-manifest.json" in outer.namelist()
    for number, name in enumerate(packs):
        verify_zip(outer.read(name), tmp_path / f"pack-{number}")
    export = AuditEvent.objects.get(action=Action.AUDIT_EVIDENCE_EXPORTED)
    assert export.data["seed"] == "q4-walkthrough"
    assert export.data["population_size"] == len(deals)
    assert len(export.data["zip_sha256"]) == 64
