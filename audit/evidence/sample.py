"""The audit sample: which deals an auditor tests for a period, drawn reproducibly.

Population: every deal with at least one audit event in the period about the deal or
anything that belongs to it (its contract versions, approval requests, CRM drift, signature
requests and signers, billing records and invoices: dealdesk.deal_events), the period's
bounds taken in UTC, start included, end excluded.

Draw: each deal id is ranked by SHA-256("<seed>:<deal id>") and the N lowest are the sample,
listed by id. The same seed and population always give the same sample, in any language an
auditor checks it with, and a deal added to the population never reshuffles the others.
"""

import datetime
import hashlib
import re
import secrets
from dataclasses import dataclass

from django.apps import apps
from django.db.models import CharField
from django.db.models.functions import Cast
from django.utils.module_loading import import_string

from audit.models import AuditEvent

DEAL_TYPE = "dealdesk.deal"
METHOD = 'the N deal ids with the lowest SHA-256("<seed>:<deal id>") (hex), listed by id'
POPULATION = (
    "deals with at least one audit event in the period (UTC, start included, end excluded) "
    "about the deal or anything that belongs to it"
)
_PERIOD = re.compile(
    r"^(?P<year>\d{4})(?:(?:-?Q(?P<quarter>[1-4]))|(?:-(?P<month>0[1-9]|1[0-2])))?$"
)


class PeriodError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    name: str
    start: datetime.datetime
    end: datetime.datetime  # excluded


def parse_period(text: str) -> Period:
    """ "2026" (a year), "2026Q4" or "2026-Q4" (a quarter), "2026-11" (a month)."""
    match = _PERIOD.match(text.strip().upper())
    if not match:
        raise PeriodError(f"{text!r} is not a period: use 2026, 2026Q4 or 2026-11")
    year = int(match["year"])
    if match["quarter"]:
        first, months = (int(match["quarter"]) - 1) * 3 + 1, 3
        name = f"{year}Q{match['quarter']}"
    elif match["month"]:
        first, months = int(match["month"]), 1
        name = f"{year}-{match['month']}"
    else:
        first, months, name = 1, 12, str(year)
    start = datetime.datetime(year, first, 1, tzinfo=datetime.UTC)
    after = first - 1 + months
    end = datetime.datetime(year + after // 12, after % 12 + 1, 1, tzinfo=datetime.UTC)
    return Period(name, start, end)


def population(period: Period) -> list[int]:
    """The ids of the period's population, ascending: one query per kind of deal part."""
    events = AuditEvent.objects.filter(occurred_at__gte=period.start, occurred_at__lt=period.end)
    ids = {
        int(object_id)
        for object_id in events.filter(object_type=DEAL_TYPE).values_list("object_id", flat=True)
        if object_id.isdigit()
    }
    for label, path in import_string("dealdesk.deal_events.DEAL_PARTS").items():
        touched = events.filter(object_type=label).values("object_id")
        parts = apps.get_model(label)._default_manager.annotate(text_pk=Cast("pk", CharField()))
        ids |= set(parts.filter(text_pk__in=touched).values_list(path, flat=True))
    existing = apps.get_model(DEAL_TYPE)._default_manager.filter(pk__in=ids)
    return sorted(existing.values_list("pk", flat=True))


def new_seed() -> str:
    return str(secrets.randbelow(10**9))


def draw(population_ids: list[int], size: int, seed: str) -> list[int]:
    """The sample (see the module's docstring), by id."""
    ranked = sorted(
        population_ids,
        key=lambda deal_id: (hashlib.sha256(f"{seed}:{deal_id}".encode()).hexdigest(), deal_id),
    )
    return sorted(ranked[:size])


@dataclass(frozen=True)
class Sample:
    period: Period
    seed: str
    population: list[int]
    deal_ids: list[int]

    def manifest(self) -> dict:
        return {
            "period": self.period.name,
            "period_start": self.period.start.isoformat(),
            "period_end_excluded": self.period.end.isoformat(),
            "population_definition": POPULATION,
            "population_size": len(self.population),
            "population": self.population,
            "seed": self.seed,
            "method": METHOD,
            "sample_size": len(self.deal_ids),
            "sampled_deal_ids": self.deal_ids,
        }


def audit_sample(*, period: str, size: int, seed: str | None = None) -> Sample:
    """Draws `size` deals of the period's population (all of them when it is smaller)."""
    if size < 1:
        raise ValueError("the sample size must be at least 1")
    parsed = parse_period(period)
    ids = population(parsed)
    seed = seed or new_seed()
    return Sample(parsed, seed, ids, draw(ids, size, seed))
