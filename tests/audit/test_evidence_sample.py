"""The audit sample (export_audit --sample N --period P --seed S): the population of a period,
a reproducible draw, the packs and the sample manifest, the export audited; and a pack's
queries do not grow with the deal's events."""

import datetime
import io
import json
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.actions import Action
from audit.evidence.pack import deal_pack
from audit.evidence.sample import PeriodError, audit_sample, draw, parse_period, population
from audit.models import AuditEvent
from audit.services import audit_record
from tests.audit.test_evidence_pack import run_verify, unpacked
from tests.dealdesk.factories import DealFactory

pytestmark = pytest.mark.django_db
UTC = datetime.UTC


@pytest.fixture
def event_at(monkeypatch):
    """event_at(deal, when) → an audit event about the deal, occurred at `when`."""

    def record(deal, when: datetime.datetime, action=Action.DEAL_OWNER_ASSIGNED):
        monkeypatch.setattr("django.utils.timezone.now", lambda: when)
        event = audit_record(actor=None, action=action, obj=deal, reason="for the sample")
        monkeypatch.undo()
        return event

    return record


@pytest.mark.parametrize(
    ("text", "name", "start", "end"),
    [
        ("2026Q4", "2026Q4", (2026, 10, 1), (2027, 1, 1)),
        ("2026-q1", "2026Q1", (2026, 1, 1), (2026, 4, 1)),
        ("2026-11", "2026-11", (2026, 11, 1), (2026, 12, 1)),
        ("2026-12", "2026-12", (2026, 12, 1), (2027, 1, 1)),
        ("2026", "2026", (2026, 1, 1), (2027, 1, 1)),
    ],
)
def test_periods(text, name, start, end):
    period = parse_period(text)
    assert period.name == name
    assert period.start == datetime.datetime(*start, tzinfo=UTC)
    assert period.end == datetime.datetime(*end, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2026Q5", "2026-13", "26", "2026-11-01", "Q4", ""])
def test_a_period_that_is_none_is_refused(text):
    with pytest.raises(PeriodError):
        parse_period(text)


def test_the_population_is_the_deals_with_audit_activity_in_the_period(event_at):
    inside, edge, before, after = DealFactory.create_batch(4)
    event_at(inside, datetime.datetime(2026, 11, 15, 12, tzinfo=UTC))
    event_at(edge, datetime.datetime(2026, 10, 1, 0, 0, tzinfo=UTC))  # the start is in
    event_at(before, datetime.datetime(2026, 9, 30, 23, 59, 59, tzinfo=UTC))
    event_at(after, datetime.datetime(2027, 1, 1, 0, 0, tzinfo=UTC))  # the end is out
    assert population(parse_period("2026Q4")) == sorted([inside.pk, edge.pk])
    assert population(parse_period("2026-11")) == [inside.pk]
    assert population(parse_period("2027")) == [after.pk]


def test_the_same_seed_and_population_draw_the_same_sample():
    ids = list(range(1, 201))
    sample = draw(ids, 10, "2026Q4-audit")
    assert sample == draw(list(reversed(ids)), 10, "2026Q4-audit")
    assert sample == sorted(sample)
    assert len(set(sample)) == 10
    assert draw(ids, 10, "another seed") != sample
    # a deal joining the population takes a place or not; it never reshuffles the others
    grown = draw([*ids, 1000], 10, "2026Q4-audit")
    assert len(set(grown) - set(sample)) <= 1
    assert draw(ids[:5], 10, "x") == ids[:5]  # a small population is sampled whole


def test_export_audit_samples_a_period_writes_the_packs_and_audits_it(event_at, tmp_path):
    deals = DealFactory.create_batch(5)
    for deal in deals:
        event_at(deal, datetime.datetime(2026, 11, 2, 9, tzinfo=UTC))
    expected = audit_sample(period="2026-11", size=3, seed="42")
    out = io.StringIO()
    call_command(
        "export_audit", sample=3, period="2026-11", seed="42", out=str(tmp_path), stdout=out
    )
    ids = ", ".join(map(str, expected.deal_ids))
    assert f"period 2026-11: population 5 deals, seed 42, sampled 3: {ids}" in out.getvalue()
    manifest = json.loads((tmp_path / "sample-2026-11-seed-42.json").read_text())
    assert manifest["population"] == sorted(d.pk for d in deals)
    assert manifest["sampled_deal_ids"] == expected.deal_ids
    assert [p["deal_id"] for p in manifest["packs"]] == expected.deal_ids
    export = AuditEvent.objects.get(action=Action.AUDIT_EVIDENCE_EXPORTED)
    assert export.data["seed"] == "42"
    assert export.data["period"] == "2026-11"
    assert export.data["deal_ids"] == expected.deal_ids
    assert set(export.data["packs"]) == {str(i) for i in expected.deal_ids}

    # a pack of a deal with no contract yet still verifies offline
    content = (tmp_path / manifest["packs"][0]["file"]).read_bytes()
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    result = run_verify(unpacked(tmp_path / "unpacked", files))
    assert result.returncode == 0, result.stdout


def test_export_audit_without_a_seed_prints_the_one_it_drew(event_at, tmp_path):
    event_at(DealFactory(), datetime.datetime(2026, 11, 2, 9, tzinfo=UTC))
    out = io.StringIO()
    call_command("export_audit", sample=1, period="2026Q4", out=str(tmp_path), stdout=out)
    seed = AuditEvent.objects.get(action=Action.AUDIT_EVIDENCE_EXPORTED).data["seed"]
    assert f"seed {seed}," in out.getvalue()
    assert (tmp_path / f"sample-2026Q4-seed-{seed}.json").exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"sample": 2}, "--sample needs --period"),
        ({"sample": 2, "period": "2026Q9"}, "is not a period"),
        ({"sample": 0, "period": "2026"}, "at least 1"),
        ({"deal": 999999}, "no deal 999999"),
    ],
)
def test_export_audit_refuses_what_it_cannot_do(options, message, tmp_path):
    with pytest.raises(CommandError, match=message):
        call_command("export_audit", out=str(tmp_path), **options)
    assert not AuditEvent.objects.filter(action=Action.AUDIT_EVIDENCE_EXPORTED).exists()


def test_a_pack_takes_the_same_queries_for_5_events_or_50(event_at):
    few, many = DealFactory.create_batch(2)
    when = datetime.datetime(2026, 11, 2, 9, tzinfo=UTC)
    for deal, count in ((few, 5), (many, 50)):
        for _ in range(count):
            event_at(deal, when)

    def queries(deal) -> int:
        with CaptureQueriesContext(connection) as captured:
            deal_pack(deal_id=deal.pk, actor=None, exporter="test")
        return len(captured)

    assert queries(many) == queries(few)
