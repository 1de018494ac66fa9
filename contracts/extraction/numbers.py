"""Numbers and dates as AEs write them: "60", "sixty", "forty-five"; "2026-03-01", "March 1st, 2026"."""

import re
from datetime import date
from decimal import Decimal

_ONES = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_TEENS = [
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_VALUES = {
    "zero": 0,
    **{w: i + 1 for i, w in enumerate(_ONES)},
    **{w: i + 10 for i, w in enumerate(_TEENS)},
    **{w: (i + 2) * 10 for i, w in enumerate(_TENS)},
}
_ones, _teens, _tens = "|".join(_ONES), "|".join(_TEENS), "|".join(_TENS)
# Longest alternatives first so "forty-five" is not read as "forty".
_WORDED = rf"(?:(?:(?:one|a)\s+)?hundred|(?:{_tens})(?:[- ](?:{_ones}))?|{_teens}|{_ones}|zero)"
# Contract style repeats a number in digits: "thirty (30) days"; the digits are the value.
NUM = rf"(?:{_WORDED}\s*\(\d+\)|\d+(?:\.\d+)?|{_WORDED})"


def number(text: str) -> Decimal:
    """The value of a NUM match: "45" → 45, "forty-five" → 45, "a hundred" → 100,
    "thirty (30)" → 30."""
    text = text.strip().lower()
    if bracketed := re.search(r"\((\d+)\)", text):
        return Decimal(bracketed[1])
    if text[0].isdigit():
        return Decimal(text)
    if text.endswith("hundred"):
        return Decimal(100)
    return Decimal(sum(_VALUES[word] for word in re.split(r"[- ]", text) if word))


_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
DATE = (
    r"(?:\d{4}-\d{1,2}-\d{1,2}"
    r"|\d{1,2}/\d{1,2}/\d{4}"
    rf"|{_MONTH}\s+{_DAY},?\s+\d{{4}}"
    rf"|{_DAY}\s+(?:of\s+)?{_MONTH},?\s+\d{{4}}"
    rf"|{_MONTH}\s+\d{{4}})"
)


def _month(name: str) -> int:
    name = name.lower().rstrip(".")[:3]
    return next(i + 1 for i, month in enumerate(_MONTHS) if month.startswith(name))


def parse_date(text: str) -> date | None:
    """A DATE match as a date (US order for d/d/yyyy unless the first part exceeds 12)."""
    text = text.strip().lower()
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text):
            first, second = int(m[1]), int(m[2])
            month, day = (second, first) if first > 12 else (first, second)
            return date(int(m[3]), month, day)
        words = re.findall(r"[a-z]+|\d+", text)
        digits = [int(w) for w in words if w.isdigit()]
        names = [w for w in words if w.isalpha() and w not in {"st", "nd", "rd", "th", "of"}]
        year = next(d for d in digits if d > 31)
        day = next((d for d in digits if d <= 31), 1)
        return date(year, _month(names[0]), day)
    except (ValueError, StopIteration, IndexError):
        return None
