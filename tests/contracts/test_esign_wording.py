"""The signer's words: complete in every language, templates that format, consent that prints."""

import dataclasses
import datetime
import string
import unicodedata

import pytest

from contracts.esign.certificate_page import SignerRecord, SigningRecord, certificate_page_pdf
from contracts.esign.wording import (
    WORDS_BY_LANGUAGE,
    SignerWords,
    consent_text,
    language_for_country,
    words_for,
)

LANGUAGES = sorted(WORDS_BY_LANGUAGE)
TEMPLATE_FIELDS = {
    "email_subject",
    "email_body",
    "reminder_subject",
    "reminder_body",
    "executed_subject",
    "executed_body",
    "page_of",
}
TEXT_FIELDS = [
    field.name
    for field in dataclasses.fields(SignerWords)
    if field.type is str and field.name not in {"language", "date_pattern", "first_day"}
]
TEMPLATE_VALUES = {
    "signer_name": "Jordan {Signer}",  # braces in a value must come through untouched
    "provider_name": "Dealdesk Software, Inc.",
    "account_name": "Acme Logistics, Inc.",
    "contract_title": "Order Form",
    "link": "https://dealdesk.example/sign/abc123/",
    "expires_on": "5 December 2026",
    "page": 2,
    "pages": 7,
}


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def test_the_four_languages_are_there():
    assert {"en", "de", "fr", "es"} <= set(LANGUAGES)
    for language, words in WORDS_BY_LANGUAGE.items():
        assert words.language == language


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_is_filled_in(language):
    words = words_for(language)
    for name in TEXT_FIELDS:
        assert getattr(words, name).strip(), f"{language}.{name} is empty"
    assert len(words.months) == 12
    assert all(words.months)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", sorted(TEMPLATE_FIELDS))
def test_templates_use_the_same_placeholders_as_english_and_format(language, name):
    template = getattr(words_for(language), name)
    assert _placeholders(template) == _placeholders(getattr(words_for("en"), name))
    text = template.format(**TEMPLATE_VALUES)
    assert text.count("{") == text.count("}") == (1 if "{signer_name}" in template else 0)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_e_mails_carry_the_link_and_the_expiry(language):
    words = words_for(language)
    for body in (words.email_body, words.reminder_body):
        assert {"link", "expires_on", "signer_name", "contract_title"} <= _placeholders(body)


@pytest.mark.parametrize("language", LANGUAGES)
def test_plain_texts_have_no_placeholders(language):
    words = words_for(language)
    for name in set(TEXT_FIELDS) - TEMPLATE_FIELDS:
        value = getattr(words, name)
        assert "{" not in value, f"{language}.{name}"
        assert "}" not in value, f"{language}.{name}"


@pytest.mark.parametrize("code", ["", "xx", "it", "zh-Hans", "EN", "english", "\x00"])
def test_an_unknown_language_reads_english(code):
    assert words_for(code) == words_for("en")
    assert words_for(code).sign == "Sign"


@pytest.mark.parametrize(
    ("code", "language"), [("de-AT", "de"), ("fr_BE", "fr"), ("ES", "es"), ("es-MX", "es")]
)
def test_a_regional_code_reads_its_language(code, language):
    assert words_for(code).language == language


@pytest.mark.parametrize(
    ("country", "language"),
    [
        ("Germany", "de"),
        ("DE", "de"),
        ("de", "de"),
        ("Deutschland", "de"),
        ("  GERMANY ", "de"),
        ("Austria", "de"),
        ("Österreich", "de"),
        ("AT", "de"),
        ("Switzerland", "de"),
        ("Schweiz", "de"),
        ("Suisse", "fr"),  # the name as written says who reads it
        ("France", "fr"),
        ("FR", "fr"),
        ("Belgium", "fr"),
        ("Belgique", "fr"),
        ("Luxembourg", "fr"),
        ("Côte d'Ivoire", "fr"),
        ("Spain", "es"),
        ("España", "es"),
        ("ESP", "es"),
        ("Mexico", "es"),
        ("México", "es"),
        ("Argentina", "es"),
        ("Berlin, Germany", "de"),
        ("Switzerland (CH)", "de"),
        ("United States", "en"),
        ("USA", "en"),
        ("United Kingdom", "en"),
        ("Canada", "en"),
        ("Japan", "en"),
        ("", "en"),
        ("Germanyland", "en"),
        ("<script>", "en"),
    ],
)
def test_the_billing_country_gives_the_language(country, language):
    assert language_for_country(country) == language


def test_consent_texts_differ_per_language_and_name_their_own_buttons():
    texts = {language: consent_text(language) for language in LANGUAGES}
    assert len(set(texts.values())) == len(texts)
    for language, text in texts.items():
        words = words_for(language)
        assert words.sign in text
        assert words.decline in text
    assert consent_text("xx") == consent_text("en")


@pytest.mark.parametrize("language", LANGUAGES)
def test_consent_is_one_paragraph_without_control_characters(language):
    # The certificate page prints control characters (line breaks too) as escapes.
    text = consent_text(language)
    assert not [c for c in text if unicodedata.category(c) == "Cc"]
    assert text == text.strip()


@pytest.mark.parametrize("language", LANGUAGES)
def test_consent_covers_intent_consent_attribution_copy_and_withdrawal(language):
    # Each of the five promises is its own numbered sentence, in every language.
    text = consent_text(language)
    for number in range(1, 6):
        assert f"({number}) " in text
    assert "(6)" not in text


def test_every_consent_prints_on_the_certificate_page(settings, tmp_path):
    # render_pdf refuses a document with a character no installed (Noto) font has.
    settings.ESIGN_DEV_SEAL_DIR = tmp_path
    signed_at = datetime.datetime(2026, 12, 5, 14, 3, tzinfo=datetime.UTC)
    signers = tuple(
        SignerRecord(
            name=f"Signer {language}",
            email=f"{language}@example.com",
            role="Customer signatory",
            signed_at=signed_at,
            ip="203.0.113.7",
            user_agent="Mozilla/5.0",
            consent_text=consent_text(language),
            typed_name=f"Signer {language}",
        )
        for language in LANGUAGES
    )
    record = SigningRecord(
        request_id="SR-1",
        document_sha256="0" * 64,
        signers=signers,
        completed_at=signed_at,
        development_seal=True,
    )
    assert certificate_page_pdf(record).startswith(b"%PDF")


@pytest.mark.parametrize(
    ("language", "day", "text"),
    [
        ("en", datetime.date(2026, 12, 5), "5 December 2026"),
        ("de", datetime.date(2026, 3, 1), "1. März 2026"),
        ("fr", datetime.date(2026, 12, 1), "1er décembre 2026"),
        ("fr", datetime.date(2026, 8, 15), "15 août 2026"),
        ("es", datetime.date(2027, 1, 31), "31 de enero de 2027"),
    ],
)
def test_dates_are_written_the_way_each_language_writes_them(language, day, text):
    assert words_for(language).date_text(day) == text


def test_the_words_cannot_be_changed_at_run_time():
    with pytest.raises(dataclasses.FrozenInstanceError):
        words_for("de").sign = "Sign"  # type: ignore[misc]
