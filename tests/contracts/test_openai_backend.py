"""The openai backend through the real SDK against a local fake OpenAI server."""

import json

import pytest

from contracts.extraction import extract_clauses
from contracts.extraction.openai_backend import OpenAIExtractor
from tests.contracts.fake_openai import FakeOpenAI

# Every vendor call is logged (dealdesk/integrations/calls.py).
pytestmark = pytest.mark.django_db

NOTES = "T4C w/ 90 days notice; 99.95 uptime SLA, 10% credit"
GOOD = {
    "clauses": [
        {
            "type": "termination_for_convenience",
            "params": {"notice_days": 90},
            "quote": "T4C w/ 90 days notice",
        },
        {
            "type": "sla_credit",
            "params": {"uptime_pct": 99.95, "credit_pct": 10.0},
            "quote": "99.95 uptime SLA, 10% credit",
        },
    ]
}
RULES_RESULT = [
    {
        "type": "termination_for_convenience",
        "params": {"notice_days": 90},
        "quote": "T4C w/ 90 days notice",
    },
    {
        "type": "sla_credit",
        "params": {"uptime_pct": "99.95", "credit_pct": "10"},
        "quote": "99.95 uptime SLA, 10% credit",
    },
]


@pytest.fixture
def fake_openai(settings):
    with FakeOpenAI() as fake:
        settings.CLAUSE_EXTRACTOR = "openai"
        settings.OPENAI_BASE_URL = fake.base_url
        settings.OPENAI_API_KEY = "sk-test"
        settings.OPENAI_MODEL = "gpt-test"
        settings.OPENAI_TIMEOUT = 0.5
        settings.OPENAI_MAX_RETRIES = 2
        yield fake


def test_valid_structured_output_is_validated_and_kept(fake_openai):
    fake_openai.reply(GOOD)
    result = extract_clauses(NOTES)
    assert result.backend == "openai"
    assert result.fallback_reason == ""
    assert result.clauses == RULES_RESULT  # decimals normalised to strings
    request = fake_openai.requests[0]
    assert request["model"] == "gpt-test"
    assert request["response_format"]["type"] == "json_schema"
    schema = json.dumps(request["response_format"]["json_schema"]["schema"])
    assert "sla_credit" in schema
    assert "most_favored_nation" in schema
    # The notes travel as data inside JSON, not as the instructions.
    assert json.loads(request["messages"][1]["content"]) == {"ae_notes": NOTES}
    assert "DATA" in request["messages"][0]["content"]


def test_an_ungrounded_quote_is_dropped_and_recorded(fake_openai):
    invented = {"type": "most_favored_nation", "params": {}, "quote": "MFN agreed on the call"}
    fake_openai.reply({"clauses": [*GOOD["clauses"], invented]})
    result = extract_clauses(NOTES)
    assert [c["type"] for c in result.clauses] == ["termination_for_convenience", "sla_credit"]
    assert result.dropped == [{**invented, "reason": "ungrounded: quote is not in the notes"}]


def test_unknown_types_and_bad_params_become_other(fake_openai):
    fake_openai.reply(
        {
            "clauses": [
                {"type": "escrow", "params": {}, "quote": "T4C w/ 90 days notice"},
                {"type": "sla_credit", "params": {"uptime_pct": 250}, "quote": "99.95 uptime SLA"},
            ]
        }
    )
    result = extract_clauses(NOTES)
    assert [c["type"] for c in result.clauses] == ["other", "other"]
    assert result.clauses[0]["params"]["summary"].startswith("escrow")
    assert len(result.dropped) == 2


def test_malformed_json_falls_back_to_rules_with_the_reason(fake_openai):
    fake_openai.reply('{"clauses": [ {"type": "payment_terms", ')
    result = extract_clauses(NOTES)
    assert result.backend == "rules"
    assert "not the schema's JSON" in result.fallback_reason
    assert result.clauses == RULES_RESULT
    assert len(fake_openai.requests) == 1  # a malformed answer is not retried


def test_429_then_success_is_retried(fake_openai):
    fake_openai.reply("slow down", status=429)
    fake_openai.reply(GOOD)
    result = extract_clauses(NOTES)
    assert result.backend == "openai"
    assert result.fallback_reason == ""
    assert result.clauses == RULES_RESULT
    assert len(fake_openai.requests) == 2


def test_server_errors_exhaust_retries_then_fall_back(fake_openai, settings):
    settings.OPENAI_MAX_RETRIES = 1
    fake_openai.reply("boom", status=503)
    result = extract_clauses(NOTES)
    assert result.backend == "rules"
    assert "unreachable" in result.fallback_reason or "503" in result.fallback_reason
    assert len(fake_openai.requests) == 2  # the first try and one retry, no more


def test_timeout_falls_back_to_rules(fake_openai, settings):
    settings.OPENAI_MAX_RETRIES = 1
    fake_openai.reply(GOOD, delay=2)
    result = extract_clauses(NOTES)
    assert result.backend == "rules"
    assert "unreachable" in result.fallback_reason
    assert result.clauses == RULES_RESULT


def test_openai_is_imported_only_by_its_backend():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    importers = [
        path.relative_to(root).as_posix()
        for folder in ("contracts", "dealdesk", "audit", "approvals", "billing")
        for path in (root / folder).rglob("*.py")
        if "import openai" in path.read_text() or "from openai" in path.read_text()
    ]
    assert importers == ["contracts/extraction/openai_backend.py"]


def test_extractor_uses_settings(fake_openai):
    extractor = OpenAIExtractor()
    assert str(extractor.client.base_url).rstrip("/") == fake_openai.base_url
    assert extractor.client.timeout == 0.5
