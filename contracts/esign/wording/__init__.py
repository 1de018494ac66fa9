"""Everything a customer signer reads (e-mails, the signing page, its refusals and the consent
stored with each signature), in the account's language where we have it, English otherwise."""

from . import de, en, es, fr
from .countries import DEFAULT_LANGUAGE, language_for_country
from .signer_words import SignerWords

WORDS_BY_LANGUAGE: dict[str, SignerWords] = {
    words.language: words for words in (en.WORDS, de.WORDS, fr.WORDS, es.WORDS)
}


def words_for(language: str) -> SignerWords:
    """The words for a language code ("de", "de-AT", "fr_BE"); English for any other."""
    primary = (language or "").replace("_", "-").split("-")[0].casefold()
    return WORDS_BY_LANGUAGE.get(primary, WORDS_BY_LANGUAGE[DEFAULT_LANGUAGE])


def consent_text(language: str) -> str:
    """The consent the signer agrees to, exactly as stored with the signature and printed on
    the certificate page."""
    return words_for(language).consent


__all__ = [
    "WORDS_BY_LANGUAGE",
    "SignerWords",
    "consent_text",
    "language_for_country",
    "words_for",
]
