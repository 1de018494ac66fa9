"""How well an extractor reads AE notes, scored against a labelled corpus (JSON lines).

Each corpus line: {"id", "notes", "clauses": [{"type", "params"?}], "declined": [...same...],
"banned": [types]} (tests/contracts/corpus/README.md). The extractor's output goes through
the one validator, as in the pipeline, so a clause it cannot ground does not count as found.
Clause types are matched per note as multisets (a note may hold two `other` clauses); params
are compared exactly, after the taxonomy fills their defaults, on correctly typed clauses
other than `other` (its summary is free text for legal, not a value).
"""

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contracts.extraction.base import ClauseExtractor
from contracts.extraction.validate import DECLINED_REASON, validate_clauses
from contracts.taxonomy import BANNED_BY_DEFAULT, OTHER, clean_params


@dataclass(frozen=True)
class LabelledNote:
    id: str
    notes: str
    clauses: list[dict[str, Any]]
    declined: list[dict[str, Any]]
    banned: list[str]


def load_corpus(path: Path) -> list[LabelledNote]:
    notes = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        note = LabelledNote(
            row["id"], row["notes"], row["clauses"], row.get("declined", []), row["banned"]
        )
        # The banned list is said twice (for a reader of the file): a label that contradicts
        # itself would make the banned-term recall meaningless.
        if sorted({c["type"] for c in note.clauses} & BANNED_BY_DEFAULT) != sorted(note.banned):
            raise ValueError(f"{note.id}: banned {note.banned} disagrees with its clauses")
        notes.append(note)
    return notes


@dataclass
class Score:
    notes: int = 0
    types_found: int = 0  # true positives
    types_extra: int = 0  # extracted, not labelled
    types_missed: int = 0
    params_right: int = 0
    params_compared: int = 0
    banned_expected: int = 0
    banned_found: int = 0
    banned_extra: int = 0  # a banned clause the notes do not grant (a refused one, say)
    declined_expected: int = 0
    declined_extracted: int = 0  # a refused term read as agreed: the bug
    declined_reported: int = 0  # refused terms shown to legal as "mentioned, declined"
    proposed: int = 0
    grounded: int = 0
    mistakes: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return _ratio(self.types_found, self.types_found + self.types_extra)

    @property
    def recall(self) -> float:
        return _ratio(self.types_found, self.types_found + self.types_missed)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def params_accuracy(self) -> float:
        return _ratio(self.params_right, self.params_compared)

    @property
    def banned_recall(self) -> float:
        return _ratio(self.banned_found, self.banned_expected)

    @property
    def declined_recall(self) -> float:
        return _ratio(self.declined_reported, self.declined_expected)

    @property
    def grounding_rate(self) -> float:
        return _ratio(self.grounded, self.proposed)


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def _key(clause: dict[str, Any]) -> tuple[str, str]:
    """A clause as a comparable value: type and its params with the taxonomy's defaults."""
    if clause["type"] == OTHER:
        return (OTHER, "")
    params = clean_params(clause["type"], clause.get("params") or {})
    return (clause["type"], json.dumps(params, sort_keys=True))


def score_corpus(corpus: list[LabelledNote], extractor: ClauseExtractor) -> Score:
    score = Score()
    for note in corpus:
        score.notes += 1
        proposed = extractor.extract(note.notes)
        kept, dropped = validate_clauses(note.notes, proposed)
        reported = [d for d in dropped if d["reason"] == DECLINED_REASON]
        score.proposed += len(proposed)
        score.grounded += len(proposed) - sum(d["reason"].startswith("ungrounded") for d in dropped)
        _score_note(score, note, kept, reported)
    return score


def _score_note(
    score: Score, note: LabelledNote, kept: list[dict], reported: list[dict[str, Any]]
) -> None:
    expected = Counter(_key(c) for c in note.clauses)
    got = Counter(_key(c) for c in kept)
    expected_types = Counter(t for t, _ in expected.elements())
    got_types = Counter(t for t, _ in got.elements())
    found = expected_types & got_types
    score.types_found += found.total()
    score.types_extra += (got_types - expected_types).total()
    score.types_missed += (expected_types - got_types).total()
    right = expected & got
    for clause_type, n in found.items():
        if clause_type == OTHER:
            continue
        score.params_compared += n
        score.params_right += min(n, sum(v for (t, _), v in right.items() if t == clause_type))

    expected_banned = Counter(t for t in expected_types.elements() if t in BANNED_BY_DEFAULT)
    got_banned = Counter(t for t in got_types.elements() if t in BANNED_BY_DEFAULT)
    score.banned_expected += expected_banned.total()
    score.banned_found += (expected_banned & got_banned).total()
    score.banned_extra += (got_banned - expected_banned).total()

    declined = Counter(_key(c) for c in note.declined)
    score.declined_expected += declined.total()
    score.declined_extracted += (declined & got).total()
    reported_types = Counter(c["type"] for c in reported)
    score.declined_reported += (Counter(t for t, _ in declined.elements()) & reported_types).total()

    if expected != got:
        missing = sorted((expected - got).elements())
        extra = sorted((got - expected).elements())
        score.mistakes.append(f"{note.id}: {note.notes!r}\n  missing {missing}\n  extra {extra}")
