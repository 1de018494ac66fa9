"""An OpenAI answer that is not the expected JSON falls back to the rules at once, with the
reason recorded: the real SDK against the local fake, as in test_openai_backend."""

import pytest

from contracts.extraction import ExtractionError, extract_clauses
from contracts.extraction.openai_backend import OpenAIExtractor
from dealdesk.integrations.models import IntegrationCall
from tests.contracts.fake_openai import FakeOpenAI
from tests.contracts.test_openai_backend import NOTES, RULES_RESULT

pytestmark = pytest.mark.django_db

HTML = b"<html><body><h1>Gateway portal</h1>Please sign in.</body></html>"
TRUNCATED = b'{"id": "chatcmpl-fake", "object": "chat.completion", "choices": [{"index": 0, "mes'


@pytest.fixture
def fake_openai(settings):
    with FakeOpenAI() as fake:
        settings.CLAUSE_EXTRACTOR = "openai"
        settings.OPENAI_BASE_URL = fake.base_url
        settings.OPENAI_API_KEY = "sk-test"
        settings.OPENAI_MODEL = "gpt-test"
        settings.OPENAI_TIMEOUT = 2
        settings.OPENAI_MAX_RETRIES = 2
        yield fake


def _html_page(fake):
    fake.reply_body(HTML, content_type="text/html; charset=utf-8")


def _truncated_json(fake):
    fake.reply_body(TRUNCATED, content_type="application/json")


def _body_of_another_shape(fake):
    fake.reply_body(b'[{"clauses": []}]', content_type="application/json")


def _content_of_another_shape(fake):
    fake.reply({"clauses": {"type": "payment_terms"}})


def _content_not_json(fake):
    fake.reply('{"clauses": [{"type": "payment_ter')


ANSWERS = [
    _html_page,
    _truncated_json,
    _body_of_another_shape,
    _content_of_another_shape,
    _content_not_json,
]


@pytest.mark.parametrize("answer", ANSWERS)
def test_a_malformed_answer_falls_back_to_rules_with_the_reason(fake_openai, answer):
    answer(fake_openai)
    result = extract_clauses(NOTES)
    assert result.backend == "rules"
    assert result.clauses == RULES_RESULT
    assert result.fallback_reason.startswith("openai extraction failed, rules used instead: LLM")
    # Not retried: the same question gets the same broken answer.
    assert len(fake_openai.requests) == 1
    assert IntegrationCall.objects.get(vendor="openai").status == "failed"


@pytest.mark.parametrize("answer", ANSWERS)
def test_a_malformed_answer_is_not_retryable(fake_openai, answer):
    answer(fake_openai)
    with pytest.raises(ExtractionError) as error:
        OpenAIExtractor().extract(NOTES)
    assert error.value.retryable is False


def test_a_malformed_answer_falls_back_even_when_outages_are_retried(fake_openai):
    """The drafting task raises retryable errors to retry later; a broken answer is not one."""
    _html_page(fake_openai)
    result = extract_clauses(NOTES, fall_back_on_outage=False)
    assert result.backend == "rules"
