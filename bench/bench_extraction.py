"""How well the offline rules read AE notes: the labelled corpus in tests/contracts/corpus/.

For the tune and the held-out split: clause-type precision, recall and F1 (micro), params
accuracy on correctly typed clauses, banned-term recall, refused requests extracted anyway
(the issue's bug: must be 0) and reported as "mentioned, declined", and the share of
proposed clauses whose quote grounds them. Pure, so --db is accepted and ignored:
`.venv/bin/python bench/bench_extraction.py`.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.harness import production_environment

production_environment()

import django  # noqa: E402

django.setup()

from bench.harness import ROOT, parse_db_arg, report  # noqa: E402
from contracts.extraction.evaluate import load_corpus, score_corpus  # noqa: E402 - after django.setup()
from contracts.extraction.rules import RulesExtractor  # noqa: E402 - after django.setup()

CORPUS = ROOT / "tests" / "contracts" / "corpus"
# The held-out split is held to these (tests/contracts/test_extraction_corpus.py too).
F1_TARGET, PARAMS_TARGET = 0.90, 0.90


def main() -> None:
    parse_db_arg(__doc__)
    failed = False
    for split in ("tune", "heldout"):
        score = score_corpus(load_corpus(CORPUS / f"{split}.jsonl"), RulesExtractor())
        held = split == "heldout"
        name = f"extraction {split} ({score.notes} notes)"
        report(f"{name}: clause type precision", score.precision, "ratio")
        report(f"{name}: clause type recall", score.recall, "ratio")
        report(f"{name}: clause type F1", score.f1, "ratio", f">= {F1_TARGET}" if held else "")
        report(
            f"{name}: params accuracy",
            score.params_accuracy,
            "ratio",
            f">= {PARAMS_TARGET}" if held else "",
        )
        report(f"{name}: banned-term recall", score.banned_recall, "ratio", "1.0" if held else "")
        report(f"{name}: declined requests extracted", score.declined_extracted, "count", "0")
        report(f"{name}: declined requests reported", score.declined_recall, "ratio")
        report(f"{name}: quotes grounded", score.grounding_rate, "ratio", "1.0")
        failed |= held and (
            score.f1 < F1_TARGET
            or score.params_accuracy < PARAMS_TARGET
            or score.banned_recall < 1
            or score.declined_extracted > 0
            or score.grounding_rate < 1
        )
    if failed:
        raise SystemExit("held-out extraction figures below target")


if __name__ == "__main__":
    main()
