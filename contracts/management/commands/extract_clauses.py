"""`manage.py extract_clauses < notes.txt`: the validated clauses as the pipeline stores them."""

import json
import sys

from django.core.management.base import BaseCommand

from contracts.extraction import extract_clauses, get_extractor


class Command(BaseCommand):
    help = "Read AE notes on stdin; print the validated clauses as a JSON list."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--backend", choices=["rules", "openai"], help="default: CLAUSE_EXTRACTOR"
        )

    def handle(self, *args, backend: str | None = None, **options) -> None:
        result = extract_clauses(sys.stdin.read(), extractor=get_extractor(backend))
        for drop in result.dropped:
            self.stderr.write(f"dropped: {json.dumps(drop, ensure_ascii=False)}")
        if result.fallback_reason:
            self.stderr.write(result.fallback_reason)
        self.stdout.write(json.dumps(result.clauses, ensure_ascii=False, indent=2))
