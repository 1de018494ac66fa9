"""The offline clause extractor: deterministic rules over the notes as AEs write them.

The notes are cut into sentences and each sentence into comma parts. Detectors run in a fixed
order over each sentence and claim the span they matched, so a later, looser detector cannot
read the same words again ("5% uplift cap on renewal" is a renewal cap, not an uplift).

A request the notes say was refused is proposed as `declined`, never as a clause: the refusal
may sit in the term's own part ("pushed back on MFN", "MFN: no"), in the next part ("they
asked for MFN, we said no") or in the next sentence ("They want uncapped liability. Legal
refused."), and it reaches only terms before an agreement that follows it ("we declined and
settled on net 60": net 60 is agreed). A negated term yields nothing ("no MFN", "exclusivity:
none"), except auto-renewal, where "no auto-renew" is itself the term. A term that is only
asked for, hedged or pending ("might want MFN", "pending legal") is proposed: legal decides.
Term-like words no detector placed become `other`, for legal to read. A sentence that tries
to instruct the system is data: it yields one `other` clause and nothing else.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from contracts.extraction.base import ProposedClause
from contracts.extraction.numbers import DATE, NUM, number, parse_date
from contracts.extraction.validate import MIN_QUOTE_CHARS


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern.replace("NUM", NUM).replace("DATE", DATE), re.IGNORECASE)


# A full stop ends a sentence unless it is a decimal point or closes an initial (P.O.).
_SENTENCE_END = re.compile(r"[;!?\n]|(?<!\b[A-Za-z])\.(?=\s|$)")
_PART_END = re.compile(r",|\s+but\s+|\s+-\s+", re.IGNORECASE)
# Words that refuse a request. "not agreed yet" is pending, not refused.
_DECLINED = _rx(
    r"\b(?:declined|decline|said no|told them no|rejected|refused|pushed back|"
    r"not agreed(?! yet)|denied|no go|no-go|off the table|(?:we|I) passed|not accepted|"
    r"struck (?:it|that|this)|turned (?:it |that |this )?down|non-?starter|hard no|no way|"
    r"not happening|\b(?:we|I|legal|finance)\s+(?:won'?t|will not|can'?t|cannot|can not|don'?t|do not)\s+"
    r"(?:agree|accept|do|offer|give|allow|sign)\b)"
)
# A part that is only a refusal: "no", "nope".
_BARE_NO = _rx(r"^\W*(?:no|nope|nah)\W*$")
# Right after a term: "MFN: no", "MFN? no", "exclusivity - nope".
_NO_AFTER = _rx(r"\s*(?::|\?|-|=)\s*(?:no|nope)\b")
# A counter-offer in the part after an ask: the ask was not taken ("they wanted net 90, we
# countered with net 60", "asked for a 90 day opt-out, we agreed to 30 days instead").
_COUNTER = _rx(r"\b(?:instead|counter(?:ed|-?offered)?|we offered)\b")
# What settles after a refusal: "we declined and settled on net 60".
_AGREED_AFTER = _rx(
    r"\b(?:landed on|settled (?:on|at|for)|agreed(?: to| on)?|instead|offered|went with|"
    r"compromised on|met (?:them )?(?:in the middle|halfway) (?:on|at))\b"
)
_NEGATED = _rx(
    r"\b(?:no|not|without|never|non|removed?|strike|struck|drop(?:ped)?|waived?)\b[\s-]*"
    r"(?:[\w#]+[\s-]+){0,2}$"
)
# Right after a term: "exclusivity: none", "MFN - n/a".
_NEGATED_AFTER = _rx(r"\s*(?::|-|=)?\s*(?:none|n/?a|not included|excluded)\b")
_INSTRUCTION = _rx(
    r"\b(?:ignore|disregard|forget|override)\b.{0,40}?\b(?:instructions?|prompts?|rules|above|"
    r"previous|prior|everything)\b|\bsystem prompt\b|\bsystem\s*(?:override|message)\b|"
    r"\byou are (?:now )?(?:an? )?(?:ai|assistant|model|language model|chatgpt)\b|"
    r"\b(?:auto-?)?approve (?:this|the deal|it|at|immediately|automatically)\b|\bact as\b|"
    r"\bnew instructions\b|\b(?:note|message|instructions?) (?:to|for) (?:the |any )?"
    r"(?:ai|assistant|bot|model|llm|system)\b|\b(?:skip|bypass|no need for|without) "
    r"(?:the )?legal(?: review)?\b"
)
# Words that mark a non-standard term even when no detector can place it.
_TERM_WORDS = _rx(
    r"\b(?:indemn\w*|warrant\w*|audit rights?|right to audit|escrow|source code|"
    r"non[- ]?solicit\w*|insurance|penalt\w*|refunds?|liquidated damages|acceptance "
    r"(?:testing|criteria|period)|rev(?:enue)? share|benchmark\w*|co-?term\w*|assign\w*|"
    r"change of control|intellectual property|IP ownership|publicity|logo rights|case study|"
    r"HIPAA|BAA|DPA|GDPR|SOC ?2|security (?:review|addendum|questionnaire)|subprocessors?|"
    r"confidential\w*|non-standard|custom (?:terms|clause|paper|language)|their paper|"
    r"customer paper|side letter|credits?|terminat\w*|notice period|renewal|liabilit\w*|"
    r"uptime|SLA|payment terms|price (?:protection|match)|most favou?red|"
    r"MFN|exclusiv\w*|opt[- ]?out|cancel\w*)\b"
)


@dataclass
class _Sentence:
    notes: str
    start: int
    end: int
    parts: list[tuple[int, int]] = field(default_factory=list)
    claimed: list[tuple[int, int]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.notes[self.start : self.end]

    def part_of(self, pos: int) -> int:
        return next(i for i, (s, e) in enumerate(self.parts) if s <= pos <= e)

    def free(self, start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in self.claimed)

    def claimed_within(self, start: int, end: int) -> bool:
        return any(cs < end and ce > start for cs, ce in self.claimed)


@dataclass
class _Found:
    type: str
    params: dict
    start: int  # absolute offsets into the notes
    end: int
    declined: bool = False

    def decline(self, refusal: tuple[int, int]) -> None:
        """Mark it refused; the quote takes in the refusal, so legal reads both."""
        self.declined = True
        self.start, self.end = min(self.start, refusal[0]), max(self.end, refusal[1])


def _sentences(notes: str) -> Iterator[_Sentence]:
    start = 0
    for m in [*_SENTENCE_END.finditer(notes), None]:
        end = m.start() if m else len(notes)
        s, e = _strip(notes, start, end)
        if s < e:
            sentence = _Sentence(notes, s, e)
            part_start = s
            for pm in [*_PART_END.finditer(notes, s, e), None]:
                part_end = pm.start() if pm else e
                sentence.parts.append(_strip(notes, part_start, part_end))
                part_start = pm.end() if pm else e
            yield sentence
        start = m.end() if m else len(notes)


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in " \t\r\n-•*":
        start += 1
    while end > start and text[end - 1] in " \t\r\n":
        end -= 1
    return start, end


def _refusal(sentence: _Sentence, item: _Found) -> tuple[int, int] | None:
    """The span of the words that refuse `item`, if its part or the next one refuses it."""
    notes = sentence.notes
    i = sentence.part_of(item.start)
    s, e = sentence.parts[i]
    if m := _NO_AFTER.match(notes, item.end, e):
        return m.span()
    for cue in _DECLINED.finditer(notes, s, e):
        # A refusal before the term reaches it unless something was agreed in between.
        if cue.start() >= item.end or not _AGREED_AFTER.search(notes, cue.end(), item.start):
            return cue.span()
    # The part after the term's last one: a term may run over a comma ("T4C, 60 days notice").
    last = sentence.part_of(item.end)
    if last + 1 < len(sentence.parts):
        ns, ne = sentence.parts[last + 1]
        refuses = _DECLINED.search(notes, ns, ne) or _BARE_NO.match(notes[ns:ne])
        if (refuses and not sentence.claimed_within(ns, ne)) or _COUNTER.search(notes, ns, ne):
            return ns, ne
    return None


# Words a refusal may trail without naming what it refuses: "Told them it's a non-starter
# for us." More, and the refusal has an object of its own ("we declined their ask for ...").
_REFUSAL_TAIL_WORDS = 4


def _refers_back(sentence: _Sentence, items: list[_Found]) -> bool:
    """A refusal that names no term of its own refuses the previous sentence's terms:
    "Customer wants uncapped liability. Legal refused." """
    notes = sentence.notes
    cue = _DECLINED.search(notes, sentence.start, sentence.end)
    if cue is None:
        return False
    _, part_end = sentence.parts[sentence.part_of(cue.start())]
    agreed = _AGREED_AFTER.search(notes, cue.end(), part_end)
    stop = agreed.start() if agreed else part_end
    if any(item.start < stop for item in items):
        return False
    return len(notes[cue.end() : stop].split()) <= _REFUSAL_TAIL_WORDS


def _negated(sentence: _Sentence, item: _Found) -> bool:
    s, e = sentence.parts[sentence.part_of(item.start)]
    return bool(
        _NEGATED.search(sentence.notes[s : item.start])
        or _NEGATED_AFTER.match(sentence.notes, item.end, e)
    )


def _matches(pattern: re.Pattern[str], sentence: _Sentence) -> Iterator[re.Match[str]]:
    for m in pattern.finditer(sentence.notes, sentence.start, sentence.end):
        if sentence.free(m.start(), m.end()):
            yield m


def _int(text: str) -> int:
    return int(number(text))


def _close_bracket(notes: str, start: int, end: int) -> int:
    """Take the closing bracket into the quote when the span opened one: "(PO-4471)"."""
    if end < len(notes) and notes[end] == ")" and "(" in notes[start:end]:
        return end + 1
    return end


# --- detectors: each yields what it found in one sentence --------------------------------

Detector = Callable[[_Sentence], Iterator[_Found]]


def _simple(clause_type: str, patterns: list[str], params: Callable[[re.Match], dict]) -> Detector:
    compiled = [_rx(p) for p in patterns]

    def detect(sentence: _Sentence) -> Iterator[_Found]:
        for pattern in compiled:
            for m in _matches(pattern, sentence):
                yield _Found(clause_type, params(m), m.start(), m.end())

    return detect


_INTERVALS = [
    (r"semi-?annual|twice a year|bi-?annual|every six months|every 6 months", "semiannual"),
    (r"month", "monthly"),
    (r"quarter", "quarterly"),
    (r"annual|year", "annual"),
    (r"upfront|up[- ]front|prepa|in advance|in full", "upfront"),
]
_FREQ = (
    r"(?:monthly|quarterly|annually|yearly|semi-?annually|twice a year|bi-?annually|"
    r"upfront|up[- ]front|every (?:six|6) months|in full (?:up ?front|in advance)|in advance)"
)


def _interval(m: re.Match) -> dict:
    word = m["f"].lower()
    return {"interval": next(v for p, v in _INTERVALS if re.search(p, word))}


_REGIONS = {
    "eu": "EU",
    "eea": "EU",
    "europe": "EU",
    "european union": "EU",
    "us": "US",
    "usa": "US",
    "united states": "US",
    "uk": "UK",
    "united kingdom": "UK",
    "germany": "DE",
    "canada": "CA",
    "australia": "AU",
    "japan": "JP",
    "switzerland": "CH",
    "france": "FR",
    "india": "IN",
    "singapore": "SG",
    "apac": "APAC",
}
_REGION = (
    r"(?P<r>(?-i:EU|EEA|USA|US|UK|APAC)|Europe|European Union|United States|United Kingdom|"
    r"Germany|Canada|Australia|Japan|Switzerland|France|India|Singapore)\b"
)
# "Canadian data residency": the adjective names the region.
_REGION_ADJECTIVES = {
    "european": "EU",
    "american": "US",
    "british": "UK",
    "german": "DE",
    "canadian": "CA",
    "australian": "AU",
    "japanese": "JP",
    "swiss": "CH",
    "french": "FR",
    "indian": "IN",
}
_REGION_ADJECTIVE = rf"(?P<a>{'|'.join(_REGION_ADJECTIVES)})"


def _region(m: re.Match) -> dict:
    if m.groupdict().get("a"):
        return {"region": _REGION_ADJECTIVES[m["a"].lower()]}
    return {"region": _REGIONS[m["r"].lower()]}


_JURISDICTIONS = {
    "ny": "New York",
    "new york": "New York",
    "de": "Delaware",
    "delaware": "Delaware",
    "california": "California",
    "texas": "Texas",
    "washington": "Washington",
    "massachusetts": "Massachusetts",
    "illinois": "Illinois",
    "english": "England and Wales",
    "england": "England and Wales",
    "england and wales": "England and Wales",
    "german": "Germany",
    "germany": "Germany",
    "irish": "Ireland",
    "ireland": "Ireland",
    "swiss": "Switzerland",
    "switzerland": "Switzerland",
    "dutch": "Netherlands",
    "netherlands": "Netherlands",
    "the netherlands": "Netherlands",
    "japanese": "Japan",
    "japan": "Japan",
    "norwegian": "Norway",
    "norway": "Norway",
    "french": "France",
    "france": "France",
    "ontario": "Ontario",
    "singapore": "Singapore",
    "scotland": "Scotland",
    "scots": "Scotland",
}
_JUR = (
    r"(?P<j>(?-i:NY|DE)|New York|Delaware|California|Texas|Washington|Massachusetts|Illinois|"
    r"England and Wales|England|English|German|Germany|Irish|Ireland|Swiss|Switzerland|Dutch|"
    r"(?:the )?Netherlands|Japanese|Japan|Norwegian|Norway|French|France|Ontario|Singapore|"
    r"Scotland|Scots)\b"
)


def _jurisdiction(m: re.Match) -> dict:
    return {"jurisdiction": _JURISDICTIONS[m["j"].lower()]}


def _months(m: re.Match) -> int:
    n = _int(m["n"])
    return n * 12 if m["u"].lower().startswith("y") else n


_DAYS = r"(?:days?|d)\b"
_NOTICE = _rx(
    rf"(?P<n>NUM)\s*-?\s*{_DAYS}'?s?\s*(?:prior\s+|advance\s+)?(?:written\s+)?"
    r"(?:notice|non-renewal notice)?|notice(?: period)?(?: of)?\s*(?P<n2>NUM)\s*-?\s*" + _DAYS
)


def _notice_days(sentence: _Sentence, s: int, e: int) -> re.Match | None:
    for m in _NOTICE.finditer(sentence.notes, s, e):
        if sentence.free(m.start(), m.end()):
            return m
    return None


# How far into the next part a notice may start and still belong to the term before it:
# "T4C, 60 day notice", "auto-renews yearly, 30 days notice to cancel".
_NOTICE_LEAD_CHARS = 12


def _notice_near(sentence: _Sentence, start: int) -> re.Match | None:
    """The notice period stated in the term's part or leading the next one."""
    i = sentence.part_of(start)
    if notice := _notice_days(sentence, *sentence.parts[i]):
        return notice
    if i + 1 < len(sentence.parts):
        s, e = sentence.parts[i + 1]
        notice = _notice_days(sentence, s, e)
        if notice and notice.start() - s <= _NOTICE_LEAD_CHARS:
            return notice
    return None


def _notice_value(m: re.Match) -> int:
    return _int(m["n"] or m["n2"])


_T4C = _rx(
    r"\bT4C\b|\bTfC\b|\btermination for conv(?:enience)?\b|\bterminat(?:e|ion) (?:for|at) "
    r"(?:their |its |customer'?s? )?convenience\b|\bterminate (?:at any time|anytime)\b|"
    r"\bconvenience termination\b"
)


def _termination(sentence: _Sentence) -> Iterator[_Found]:
    for m in _matches(_T4C, sentence):
        _, e = sentence.parts[sentence.part_of(m.start())]
        notice = _notice_near(sentence, m.start())
        if notice is None:
            yield _Found(
                "other",
                {"summary": "Termination for convenience, notice period not stated"},
                m.start(),
                e,
            )
            continue
        yield _Found(
            "termination_for_convenience",
            {"notice_days": _notice_value(notice)},
            min(m.start(), notice.start()),
            max(m.end(), notice.end()),
        )


_AUTO_RENEW = _rx(
    r"\bauto[- ]?renew(?:al|als|s|ing|ed)?\b|\bautomatic(?:ally)? renew(?:al|s)?\b|\bevergreen\b|"
    r"\bnon[- ]renewing\b"
)
_AUTO_RENEW_OFF_BEFORE = _rx(
    r"\b(?:no|not|without|remove[ds]?|strike|struck|disable[ds]?|opt(?:ed)? out of|don'?t|"
    r"doesn'?t|does not|won'?t|will not)\b[\s-]*(?:\w+[\s-]+){0,1}$"
)
_AUTO_RENEW_OFF_AFTER = _rx(
    r"\s*(?::|=|-)?\s*(?:is\s+)?(?:off|no|removed|disabled|struck|deleted|out|n)\b"
)


def _auto_renewal(sentence: _Sentence) -> Iterator[_Found]:
    for m in _matches(_AUTO_RENEW, sentence):
        s, e = sentence.parts[sentence.part_of(m.start())]
        start, end = m.start(), m.end()
        before = _AUTO_RENEW_OFF_BEFORE.search(sentence.notes[s:start])
        after = _AUTO_RENEW_OFF_AFTER.match(sentence.notes, end, e)
        enabled = not (before or after or m[0].lower().startswith("non"))
        if before:
            start = s + before.start()
        if after:
            end = after.end()
        notice_days = None
        if enabled and (notice := _notice_near(sentence, m.start())):
            notice_days = _notice_value(notice)
            start, end = min(start, notice.start()), max(end, notice.end())
        yield _Found("auto_renewal", {"enabled": enabled, "notice_days": notice_days}, start, end)


_UPTIME = _rx(
    r"\b(?P<u>\d{2}(?:\.\d+)?)\s*%?\s*(?:uptime|availability|SLA)\b|"
    r"\b(?:uptime|availability|SLA)\s*(?:of|at|:)?\s*(?P<u2>\d{2}(?:\.\d+)?)\s*%?"
)
_CREDIT = _rx(r"(?P<c>NUM)\s*%\s*(?:service\s+)?credits?\b|\bcredits?\s*(?:of)?\s*(?P<c2>NUM)\s*%")


def _sla(sentence: _Sentence) -> Iterator[_Found]:
    for m in _matches(_UPTIME, sentence):
        uptime = Decimal(m["u"] or m["u2"])
        credit = next(_matches(_CREDIT, sentence), None)
        if credit is None:
            yield _Found(
                "other",
                {"summary": f"Uptime SLA {uptime}% with no service credit stated"},
                m.start(),
                m.end(),
            )
            continue
        yield _Found(
            "sla_credit",
            {"uptime_pct": str(uptime), "credit_pct": str(number(credit["c"] or credit["c2"]))},
            min(m.start(), credit.start()),
            max(m.end(), credit.end()),
        )


_BILLING_START = _rx(
    r"\bbill(?:ing)?\s+(?:to\s+)?(?:starts?|begins?|commences?|start date|from)\b|"
    r"\b(?:start|begin)\s+billing\b|\bno billing until\b|\bdon'?t bill until\b"
)
_GO_LIVE = _rx(r"\bgo(?:es)?[- ]?live\b|\blaunch\b|\bproduction cutover\b")
_DAYS_AFTER = _rx(
    rf"(?P<n>NUM)\s*-?\s*{_DAYS}\s*(?:after|post|from|following)\s+(?:signature|signing|execution)"
)
_ON_SIGNATURE = _rx(r"\b(?:signature|signing|execution)\b")
_FIXED = _rx(r"DATE")


def _billing_start(sentence: _Sentence) -> Iterator[_Found]:
    for m in _matches(_BILLING_START, sentence):
        # The sentence, not the part: a date has its own comma ("March 15th, 2026").
        window = (m.end(), min(sentence.end, m.end() + 60))
        options = []
        for pattern, mode in (
            (_GO_LIVE, "on_go_live"),
            (_DAYS_AFTER, "days_after_signature"),
            (_FIXED, "fixed_date"),
            (_ON_SIGNATURE, "on_signature"),
        ):
            if found := pattern.search(sentence.notes, *window):
                options.append((found.start(), mode, found))
        if not options:
            continue
        _, mode, found = min(options, key=lambda o: o[0])
        params = {"mode": mode, "date": None, "days": None}
        if mode == "fixed_date":
            when = parse_date(found[0])
            if when is None:
                continue
            params["date"] = when.isoformat()
        elif mode == "days_after_signature":
            params["days"] = _int(found["n"])
        yield _Found("billing_start", params, m.start(), found.end())


_PO_REQUIRED = _rx(
    r"\bP\.?O\.?\s*(?:#|no\.?|number)?\s*(?:is\s+|are\s+)?(?:required|req'?d|req|needed|mandatory|"
    r"must)\b|\bpurchase order(?: number)?s?\s+(?:is\s+|are\s+)?(?:required|needed|mandatory)\b|"
    r"\b(?:requires?|needs?|wants?)\s+(?:a\s+)?(?:PO|purchase order)s?\b|\bPO#?\s+on\s+(?:all\s+|every\s+)?invoices?\b|"
    r"\bPO\s*(?:#|no\.?|number)\s*:?\s*[A-Z]*\d[\w-]*\s+(?:must|should|to)\s+(?:appear|be quoted)\b"
)
_PO_NUMBER = _rx(
    r"\b(?P<po>PO-\d[\w-]*)|\b(?:PO|purchase order)\s*\(\s*(?P<po3>[A-Z]*\d[\w-]*)\s*\)|\b(?:PO|P\.O\.|purchase order)\s*(?:#|no\.?|number)\s*:?\s*"
    r"(?P<po2>[A-Z]*\d[\w-]*)"
)


def _purchase_order(sentence: _Sentence) -> Iterator[_Found]:
    for m in _matches(_PO_REQUIRED, sentence):
        number_match = next(_matches(_PO_NUMBER, sentence), None)
        start, end = m.start(), m.end()
        po_number = None
        if number_match:
            po_number = number_match["po"] or number_match["po2"] or number_match["po3"]
            start, end = min(start, number_match.start()), max(end, number_match.end())
        end = _close_bracket(sentence.notes, start, end)
        yield _Found("purchase_order_required", {"po_number": po_number}, start, end)
        return


_METHODS = {"wire": "wire", "bank": "wire", "ach": "ach", "credit": "card", "card": "card"}


def _method(m: re.Match) -> dict:
    word = m["m"].lower().split()[0]
    return {"method": _METHODS.get(word, "check")}


_MULTIPLE = r"(?P<m>NUM)\s*(?:x|×|times)"


DETECTORS: list[Detector] = [
    _termination,
    _sla,
    _billing_start,
    _simple(
        "unlimited_liability",
        [
            r"\b(?:unlimited|uncapped)\s+liability\b|\bliability\s+(?:is\s+)?(?:unlimited|uncapped)\b|"
            r"\bno\s+(?:liability\s+)?cap\s+on\s+liability\b"
        ],
        lambda m: {},
    ),
    _simple(
        "liability_cap",
        [
            rf"\bliability\s+(?:cap(?:ped)?|limit(?:ed)?)\s*(?:stays?\s+|remains?\s+|is\s+)?(?:at|to|of|:)?\s*{_MULTIPLE}"
            r"(?:\s*(?:the\s+)?(?:annual\s+|total\s+|12[- ]month\s+)?(?:fees|contract value|ACV))?",
            rf"\b{_MULTIPLE}\s*(?:the\s+)?(?:annual\s+|12[- ]month\s+)?(?:fees?|ACV|contract value)"
            r"\s+(?:liability\s+)?cap\b",
            rf"\bcap(?:ped)?\s+liability\s+(?:at|to)\s+{_MULTIPLE}(?:\s*(?:the\s+)?(?:annual\s+)?fees)?",
            rf"\b(?:LoL|limitation of liability|liability limit(?:ation)?)\s*(?::|at|of|to|is)?\s*"
            rf"{_MULTIPLE}(?:\s*(?:the\s+)?(?:annual\s+|total\s+|12[- ]month\s+)?(?:fees|ACV|contract value))?",
        ],
        lambda m: {"multiple_of_fees": str(number(m["m"]))},
    ),
    _simple(
        "liability_cap",
        [
            r"\bliability\s+cap(?:ped)?\s*(?:at|to|of|:)?\s*(?:12|twelve)\s+months'?\s+(?:of\s+)?fees"
        ],
        lambda m: {"multiple_of_fees": "1"},
    ),
    _simple(
        "renewal_price_cap",
        [
            r"\b(?P<p>NUM)\s*%\s*(?:annual\s+|yearly\s+)?(?:uplift\s+|increase\s+|price\s+increase\s+)?"
            r"cap(?:ped)?\b(?:\s+on\s+(?:the\s+)?renewals?)?",
            r"\brenewals?\s+(?:price\s+)?(?:increases?\s+|uplifts?\s+)?(?:capped|cap|limited|not to exceed|"
            r"max(?:imum)?|at most|no more than)\s*(?:at|to|of|:)?\s*(?P<p>NUM)\s*%",
            r"\b(?:cap|capped|limit)\s+(?:renewal\s+)?(?:price\s+)?(?:increases?|uplifts?)\s+"
            r"(?:on\s+renewal\s+)?(?:at|to)\s+(?P<p>NUM)\s*%",
        ],
        lambda m: {"max_increase_pct": str(number(m["p"]))},
    ),
    _simple(
        "price_uplift",
        [
            r"\b(?P<p>NUM)\s*%\s*(?:annual\s+|yearly\s+|yoy\s+)?(?:uplift|escalator|price increase)s?\b"
            r"(?:\s+every\s+(?P<e>NUM)\s+months)?",
            r"\b(?:uplift|escalator|price increase)s?\s*(?:of|at|:)?\s*(?P<p>NUM)\s*%"
            r"(?:\s+every\s+(?P<e>NUM)\s+months)?",
        ],
        lambda m: {"pct": str(number(m["p"])), "every_months": _int(m["e"]) if m["e"] else 12},
    ),
    _simple(
        "price_lock",
        [
            r"\bpric(?:e|es|ing)\s+(?:lock(?:ed)?|hold|held|fixed|frozen|freeze|protection)\s*"
            r"(?:for|of|:)?\s*(?P<n>NUM)\s*(?P<u>months?|mos?|years?|yrs?)\b",
            r"\b(?P<n>NUM)[- ](?P<u>month|year)\s+price\s+(?:lock|hold|freeze|protection)\b",
            r"\block(?:ed)?\s+(?:in\s+)?(?:the\s+)?pric(?:e|es|ing)\s+for\s+(?P<n>NUM)\s*(?P<u>months?|years?)",
        ],
        lambda m: {"months": _months(m)},
    ),
    _simple(
        "free_period",
        [
            r"\b(?:first\s+)?(?P<n>NUM)\s*(?:months?|mos?)\s+(?:free|at no (?:cost|charge)|no charge)\b",
            r"\bfree\s+(?:period|months?)\s*(?:of|:)?\s*(?P<n>NUM)\s*(?:months?|mos?)?",
            r"\b(?P<n>NUM)[- ]month\s+free\s+(?:period|ramp)\b",
            r"\b(?P<n>NUM)\s+free\s+(?:months?|mos?)\b",
            r"\bfree\s+for\s+(?:the\s+)?(?:first\s+)?(?P<n>NUM)\s+(?:months?|mos?)\b",
        ],
        lambda m: {"months": _int(m["n"])},
    ),
    _simple(
        "pilot_opt_out",
        [
            rf"\bopt[- ]?out\s+(?:right\s+)?(?:any ?time\s+)?(?:within|after|at|in|by)\s+(?:the\s+first\s+)?(?P<n>NUM)\s*{_DAYS}",
            r"\b(?P<n>NUM)[- ]?(?:day|d)\s+(?:pilot\s+)?opt[- ]?out\b",
            rf"\bpilot\b[^.;]{{0,40}}?\b(?:opt[- ]?out|walk away|cancel)\b[^.;]{{0,20}}?(?P<n>NUM)\s*{_DAYS}",
        ],
        lambda m: {"days": _int(m["n"])},
    ),
    _auto_renewal,
    _simple(
        "payment_terms",
        [
            r"\bnet[\s-]*(?P<n>NUM)\b(?:\s*days)?",
            rf"\bpayment terms?\s*(?:of|are|at|:)?\s*(?:net\s*)?(?P<n>NUM)\s*{_DAYS}",
            r"\b(?:paid|pay(?:ment)?)\s+within\s+(?P<n>NUM)\s*days\b",
            r"\b(?P<n>NUM)[\s-]*days?\s+payment terms\b",
            rf"\b(?:payment\s+)?terms\s*(?::|=|are|of)\s*(?:net\s*)?(?P<n>NUM)\s*{_DAYS}",
            rf"\bpayment\s+(?:is\s+)?due\s+(?:in\s+|within\s+)?(?P<n>NUM)\s*{_DAYS}",
        ],
        lambda m: {"net_days": _int(m["n"])},
    ),
    _simple(
        "billing_frequency",
        [
            rf"\b(?:bill(?:ed|ing)?|invoic(?:ed|ing|e)|pa(?:y|ys|ying|yment|id))\s+(?:\w+\s+){{0,2}}?(?P<f>{_FREQ})",
            r"\b(?P<f>monthly|quarterly|annual|yearly|semi-?annual|upfront|up-front)\s+"
            r"(?:billing|invoic\w*|payments?|in advance)\b",
            r"\b(?P<f>prepaid|prepay(?:ment)?)\b",
        ],
        _interval,
    ),
    _purchase_order,
    _simple(
        "payment_method",
        [
            r"\b(?:pay(?:s|ing|ment)?|paid|remit\w*|settle\w*)\s+(?:\w+\s+){0,2}?(?:by|via|with|through|using)"
            r"\s+(?P<m>wire(?: transfer)?|ACH|credit card|card|check|cheque|bank transfer)\b",
            r"\b(?P<m>wire transfer|ACH|credit card|cheque|check)\s+(?:payments?|only|preferred)\b",
            r"\bpayment method\s*:?\s*(?P<m>wire|ACH|credit card|card|check|cheque)\b",
        ],
        _method,
    ),
    _simple(
        "data_residency",
        [
            rf"\b{_REGION}[\s-]+(?:only\s+)?data\s+residency\b",
            rf"\bdata\s+residency\s*(?:in|:|-)?\s*(?:the\s+)?{_REGION}",
            r"\bdata\s+(?:must\s+|to\s+|has to\s+|should\s+|will\s+)?(?:be\s+)?(?:stay|stays|remain|remains|"
            rf"reside|resides|stored|hosted|kept|held|processed)\s+(?:only\s+)?in\s+(?:the\s+)?{_REGION}",
            rf"\b{_REGION_ADJECTIVE}\s+(?:data\s+residency|hosting|data\s+cent(?:er|re)s?)\b",
            rf"\b(?:hosted|hosting|stored)\s+(?:only\s+)?in\s+(?:the\s+)?{_REGION}",
        ],
        _region,
    ),
    _simple(
        "governing_law",
        [
            rf"\bgoverning law\s*(?::|is|-|=|of|to be)?\s*(?:the\s+)?(?:state of\s+)?{_JUR}",
            rf"\bgoverned by\s+(?:the\s+)?(?:laws?\s+of\s+)?(?:the\s+)?(?:state of\s+)?{_JUR}(?:\s+law)?",
            rf"\b{_JUR}\s+(?:governing\s+)?law\b",
            rf"\bjurisdiction\s*(?::|is|-)\s*{_JUR}",
        ],
        _jurisdiction,
    ),
    _simple(
        "most_favored_nation",
        [
            r"\bMFN\b(?:\s+(?:clause|pricing|terms))?|\bmost[- ]favou?red[- ](?:nation|customer)(?:\s+(?:clause|pricing|terms))?"
        ],
        lambda m: {},
    ),
    _simple(
        "exclusivity",
        [
            r"\bexclusiv(?:e|ity)\b(?:\s+(?:clause|rights?|deal|provider|vendor|arrangement|supplier))?"
        ],
        lambda m: {},
    ),
]
# Negation removes these; for auto-renewal it is the term itself (enabled: false).
_NEGATION_SAYS_OFF = {"auto_renewal"}


class RulesExtractor:
    name = "rules"

    def extract(self, notes: str) -> list[ProposedClause]:
        found: list[_Found] = []
        previous: list[_Found] = []  # what the last sentence granted, for a refusal after it
        for sentence in _sentences(notes):
            if _INSTRUCTION.search(sentence.text):
                summary = f"Instruction-like text in the notes, not acted on: {sentence.text}"
                found.append(_Found("other", {"summary": summary[:300]}, *_span(sentence)))
                previous = []
                continue
            items = list(self._sentence(sentence))
            if _refers_back(sentence, items):
                for item in previous:
                    item.decline(_span(sentence))
            found.extend(items)
            previous = [item for item in items if not item.declined]
        return _first_statements(notes, found)

    def _sentence(self, sentence: _Sentence) -> Iterator[_Found]:
        items: list[_Found] = []
        for detect in DETECTORS:
            for item in list(detect(sentence)):
                if sentence.free(item.start, item.end):
                    sentence.claimed.append((item.start, item.end))
                    items.append(item)
        for item in sorted(items, key=lambda f: f.start):
            if refusal := _refusal(sentence, item):
                item.decline(refusal)
            elif item.type not in _NEGATION_SAYS_OFF and _negated(sentence, item):
                continue
            yield item
        for s, e in sentence.parts:
            if sentence.claimed_within(s, e):
                continue
            if (m := _TERM_WORDS.search(sentence.notes, s, e)) is None:
                continue
            item = _Found("other", {"summary": sentence.notes[s:e][:300]}, s, e)
            if refusal := _refusal(sentence, item):
                item.decline(refusal)
            elif _NEGATED.search(sentence.notes[s : m.start()]):
                continue
            yield item


def _span(sentence: _Sentence) -> tuple[int, int]:
    return sentence.start, sentence.end


def _first_statements(notes: str, found: list[_Found]) -> list[ProposedClause]:
    """The first statement of each term, agreed and refused apart; every `other` is kept."""
    seen: set[tuple[str, bool]] = set()
    clauses = []
    for item in sorted(found, key=lambda f: f.start):
        if item.type != "other" and (item.type, item.declined) in seen:
            continue
        seen.add((item.type, item.declined))
        start, end = item.start, item.end
        if end - start < MIN_QUOTE_CHARS:
            # "MFN" alone is too short to ground anything: quote the words around it.
            start, end = _words_around(notes, start, end)
        clauses.append(ProposedClause(item.type, item.params, notes[start:end], item.declined))
    return clauses


def _words_around(notes: str, start: int, end: int) -> tuple[int, int]:
    """The term's part, or its whole sentence when the part is as short as the term."""
    sentence = next(s for s in _sentences(notes) if s.start <= start and end <= s.end)
    part_start, part_end = sentence.parts[sentence.part_of(start)]
    if part_end - part_start >= MIN_QUOTE_CHARS:
        return part_start, part_end
    return sentence.start, sentence.end
