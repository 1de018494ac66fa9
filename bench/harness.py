"""Shared pieces for the benchmarks: a throwaway Django database and timing figures.

Each benchmark script runs in its own process (Django is set up once per process) and takes
`--db sqlite|postgres`; `bench/run.py` runs them all and starts a throwaway PostgreSQL.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def parse_db_arg(description: str) -> str:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    return parser.parse_args().db


def production_environment() -> None:
    """Measure production settings (DEBUG off, even on a laptop whose .env turns it on),
    with throwaway keys: DEBUG off refuses the laptop's (docs/deploy.md)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dealdesk.settings")
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-any-deployment")
    os.environ.setdefault("AUDIT_CHAIN_KEY", "bench-only-audit-chain-key-not-for-deployments")
    # Plain logs: no access-log line per request (thousands per benchmark) over the figures.
    os.environ.setdefault("LOG_FORMAT", "plain")


@contextmanager
def django_database(kind: str) -> Iterator[None]:
    """Set Django up on a fresh, migrated database of `kind` and drop it afterwards."""
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        if kind == "postgres":
            url = os.environ.get("BENCH_DATABASE_URL")
            if not url:
                raise SystemExit("BENCH_DATABASE_URL is not set (bench/run.py sets it)")
            os.environ["DATABASE_URL"] = url
        else:
            os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
        production_environment()
        # In-process requests over plain http and static files served from their sources,
        # as no collectstatic has run.
        os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
        os.environ.setdefault(
            "STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
        os.environ["DEALDESK_VAR_DIR"] = tmp
        import django
        from django.db import connection

        django.setup()
        if kind == "postgres":
            name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
            print_durability()
        else:
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
            name = None
        try:
            yield
        finally:
            if name:
                connection.creation.destroy_test_db(name, verbosity=0)


def print_durability() -> None:
    """Every PostgreSQL figure names the durability it was measured with: the throwaway
    cluster runs with fsync off, production (and `bench/run.py`'s durable pass) with it on."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, setting FROM pg_settings WHERE name = ANY(%s) ORDER BY name",
            [["fsync", "synchronous_commit", "full_page_writes"]],
        )
        print("PostgreSQL:", ", ".join(f"{n}={s}" for n, s in cursor.fetchall()), flush=True)


def settle(*tables: str) -> None:
    """What autovacuum does to tables soon after a bulk load (statistics, visibility map);
    without it PostgreSQL plans a freshly loaded table blind and counts it by reading every
    heap page. The names are the benchmark's own tables, never input."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute("ANALYZE")
            return
        for table in tables:
            # Right after a bulk load, autovacuum's own ANALYZE can hold the visibility
            # horizon back: VACUUM then marks no page all-visible and every index-only scan
            # reads the heap (seen as run-to-run swings). Vacuum again until it took.
            for _ in range(10):
                cursor.execute(f"VACUUM (FREEZE, ANALYZE) {connection.ops.quote_name(table)}")
                cursor.execute(
                    "SELECT relallvisible >= relpages FROM pg_class WHERE oid = %s::regclass",
                    [table],
                )
                if cursor.fetchone()[0]:
                    break
                time.sleep(0.2)


def timed(fn: Callable[[], object], *, runs: int, warmup: int = 2) -> list[float]:
    """Wall-clock milliseconds of `runs` calls of fn, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def report(name: str, value: float, unit: str, target: str = "") -> None:
    """One figure per line: what, measured value, and the target it is held to (if any)."""
    held_to = f" (target {target})" if target else ""
    print(f"{name:<58} {value:>10.2f} {unit:<8}{held_to}", flush=True)


def median(samples: list[float]) -> float:
    return statistics.median(samples)
