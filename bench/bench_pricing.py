"""Pricing engine speed: a 500-line, 5-year ramp billed monthly (60 periods).

Pure computation, so no database: run as `.venv/bin/python bench/bench_pricing.py`.
"""

import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import median, parse_db_arg, percentile, report, timed
from dealdesk.pricing import DealTerms, LineInput, net_unit_price, price_deal

TARGET_MS = 20.0
INTERVALS = ("month", "quarter", "year")


def ramp_deal() -> tuple[DealTerms, list[LineInput]]:
    """100 lines in each of segments 1..5, mixed intervals and discounts, 3 % yearly uplift."""
    terms = DealTerms(
        currency="USD",
        start_date=date(2025, 1, 31),  # a month end, so add_months clamps every February
        term_months=60,
        billing_frequency="monthly",
        uplift_pct=Decimal(3),
        uplift_every_months=12,
    )
    lines = []
    for segment in range(1, 6):
        for n in range(100):
            list_price = Decimal(100 + 7 * n) + Decimal("0.99")
            lines.append(
                LineInput(
                    key=f"s{segment}-{n}",
                    kind="usage" if n % 10 == 0 else "subscription",
                    billing_interval=INTERVALS[n % 3],
                    quantity=Decimal(1 + n % 25) + Decimal(segment) / 4,
                    list_unit_price=list_price,
                    net_unit_price=net_unit_price(list_price, Decimal(n % 40) + Decimal("0.5")),
                    segment_index=segment,
                )
            )
    return terms, lines


def main() -> None:
    # bench/run.py passes --db to every benchmark; pricing touches no database.
    parse_db_arg("Pricing engine speed (no database).")
    terms, lines = ramp_deal()
    result = price_deal(terms, lines)
    assert len(result.periods) == 60, len(result.periods)
    samples = timed(lambda: price_deal(terms, lines), runs=50)
    name = "price_deal, 500 lines x 5-year ramp, monthly"
    report(f"{name} (median)", median(samples), "ms", f"<= {TARGET_MS:g} ms")
    report(f"{name} (p95)", percentile(samples, 95), "ms", "-")


if __name__ == "__main__":
    main()
