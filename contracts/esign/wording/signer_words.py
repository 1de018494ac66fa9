"""The shape of everything a customer signer reads, one instance per language."""

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class SignerWords:
    language: str  # ISO 639-1, also the signing page's <html lang>

    # E-mails: str.format templates with signer_name, provider_name, account_name,
    # contract_title, link and expires_on (a date written with `date_text`).
    email_subject: str
    email_body: str
    reminder_subject: str
    reminder_body: str
    # Once every party signed: the link to the signer's copy of the executed contract
    # (placeholders as above, without expires_on).
    executed_subject: str
    executed_body: str

    # The signing page. page_of is a template with page and pages.
    page_title: str
    document_sha256: str
    page_of: str
    download_pdf: str
    consent_heading: str
    # Stored with each signature and printed on the certificate page: one paragraph (no line
    # breaks, which the certificate page would print as escapes) of characters Noto has.
    consent: str
    consent_agree: str
    typed_name_label: str
    drawn_signature_label: str
    clear: str
    sign: str
    decline: str
    decline_reason_label: str

    # What the page says back when a field is missing or wrong.
    typed_name_missing: str
    consent_missing: str
    decline_reason_missing: str
    drawing_refused: str

    # The pages a link leads to when there is nothing (more) to sign.
    unavailable_heading: str
    already_signed: str
    already_declined: str
    link_expired: str
    request_voided: str
    link_invalid: str
    not_your_turn: str
    signed_heading: str
    signed_thanks: str
    # The last signature completed the contract: the copy is already on its way.
    signed_complete: str
    declined_heading: str
    declined_done: str

    # Dates as the language writes them: date_pattern uses day, month and year.
    months: tuple[str, ...]
    date_pattern: str
    first_day: str = "1"  # French writes the first of the month "1er"

    def date_text(self, day: date) -> str:
        number = self.first_day if day.day == 1 else str(day.day)
        return self.date_pattern.format(day=number, month=self.months[day.month - 1], year=day.year)
