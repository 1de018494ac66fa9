"""The language a customer signer reads, guessed from the account's billing country.

`Account.billing_country` is free text from the CRM ("Germany", "DE", "Deutschland",
"Österreich"...). Where a country has several languages, the name as written is the hint: a
Swiss account written "Suisse" reads French, "Schweiz" or "Switzerland" German. A country we
cannot place reads English.
"""

import re
import unicodedata

DEFAULT_LANGUAGE = "en"

_NAMES_BY_LANGUAGE = {
    "de": [
        "germany", "deutschland", "de", "deu", "federal republic of germany",
        "bundesrepublik deutschland",
        "austria", "osterreich", "oesterreich", "at", "aut", "republic of austria",
        "republik osterreich",
        "switzerland", "schweiz", "svizzera", "svizra", "ch", "che", "swiss confederation",
        "schweizerische eidgenossenschaft",
        "liechtenstein", "li", "lie",
        "belgien", "luxemburg", "letzebuerg",
    ],
    "fr": [
        "france", "fr", "fra", "french republic", "republique francaise",
        "belgium", "belgique", "be", "bel", "kingdom of belgium", "royaume de belgique",
        "luxembourg", "lu", "lux", "grand duche de luxembourg",
        "suisse", "confederation suisse",
        "monaco", "mc", "mco",
        "senegal", "sn", "sen",
        "cote d ivoire", "ivory coast", "ci", "civ",
    ],
    "es": [
        "spain", "espana", "es", "esp", "kingdom of spain", "reino de espana",
        "mexico", "mx", "mex", "united mexican states", "estados unidos mexicanos",
        "argentina", "ar", "arg",
        "chile", "cl", "chl",
        "colombia", "co", "col",
        "peru", "pe", "per",
        "venezuela", "ve", "ven",
        "ecuador", "ec", "ecu",
        "bolivia", "bo", "bol",
        "paraguay", "py", "pry",
        "uruguay", "uy", "ury",
        "costa rica", "cr", "cri",
        "panama", "pa", "pan",
        "guatemala", "gt", "gtm",
        "honduras", "hn", "hnd",
        "el salvador", "sv", "slv",
        "nicaragua", "ni", "nic",
        "dominican republic", "republica dominicana", "do", "dom",
        "cuba", "cu", "cub",
    ],
}  # fmt: skip
_LANGUAGE_BY_NAME = {
    name: language for language, names in _NAMES_BY_LANGUAGE.items() for name in names
}


def language_for_country(country: str) -> str:
    text = _normalised(country or "")
    # "Berlin, Germany" or "Switzerland (CH)": the whole text first, then each part of it.
    for candidate in (text, *re.split(r"[(),/;]", text)):
        language = _LANGUAGE_BY_NAME.get(" ".join(re.findall(r"[a-z]+", candidate)))
        if language:
            return language
    return DEFAULT_LANGUAGE


def _normalised(text: str) -> str:
    """Lower case without accents: "Österreich" and "osterreich" are the same country."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))
