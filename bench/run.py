"""`make bench`: run every benchmark, each in its own process, on SQLite and PostgreSQL.

PostgreSQL comes from BENCH_DATABASE_URL, or else a throwaway cluster from `.ci/pg` (stopped
at the end if this run started it), which runs with fsync off. The audit and outbox figures
are then measured again on a second cluster with PostgreSQL's durable defaults (fsync and
synchronous_commit on, as production runs). Each benchmark prints its own figures, and every
PostgreSQL one the durability it ran with. `--only NAME …` runs the named scripts alone
(`make bench-ops`: the load and fault scenarios).
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# (script, databases it runs on); pure ones ignore --db.
BENCHMARKS = [
    ("bench_pricing.py", ["sqlite"]),
    ("bench_audit.py", ["postgres", "sqlite"]),
    ("bench_deal_list.py", ["postgres", "sqlite"]),
    ("bench_crm_sync.py", ["postgres"]),
    ("bench_contracts.py", ["sqlite"]),
    ("bench_executed_pdf.py", ["sqlite"]),
    ("bench_extraction.py", ["sqlite"]),
    ("bench_approvals.py", ["postgres", "sqlite"]),
    ("bench_outbox.py", ["postgres", "sqlite"]),
    ("bench_esign_send.py", ["postgres", "sqlite"]),
    ("bench_docusign_webhook.py", ["postgres", "sqlite"]),
    ("bench_billing.py", ["postgres", "sqlite"]),
    ("bench_stripe_webhooks.py", ["postgres", "sqlite"]),
    ("bench_bank_import.py", ["postgres", "sqlite"]),
    ("bench_dashboard.py", ["postgres", "sqlite"]),
    ("bench_pipeline.py", ["postgres"]),  # 1,000 deals CRM → paid over 50 nights, eager: ~25 min
    ("bench_faults.py", ["postgres"]),  # its own PostgreSQL, Redis, workers and gunicorn
    # 50 users on gunicorn for 5 min under a 5,000-deal sync and 1,000 webhooks: ~15 min
    ("bench_load.py", ["postgres"]),
]
# Measured again with fsync and synchronous_commit on: what every commit costs in production.
DURABLE = ["bench_audit.py", "bench_outbox.py"]
DURABLE_CLUSTER = {
    "DD_PG_PORT": "54339",
    "DD_PG_DIR": str(Path(tempfile.gettempdir()) / "dd-pg-durable"),
    "DD_PG_DURABLE": "1",
}


def run(script: str, db: str, env: dict[str, str], heading: str = "") -> bool:
    print(f"\n== {script} --db {db}{heading}", flush=True)
    result = subprocess.run(  # noqa: S603
        [sys.executable, str(BENCH / script), "--db", db], cwd=ROOT, env=env
    )
    return result.returncode == 0


def durable_pass(scripts: list[str], env: dict[str, str]) -> int:
    """The durable scripts on a cluster of their own with PostgreSQL's defaults."""
    pg = str(ROOT / ".ci" / "pg")
    cluster = {**env, **DURABLE_CLUSTER}
    url = subprocess.run(  # noqa: S603
        [pg, "start"], check=True, capture_output=True, text=True, env=cluster
    ).stdout.strip()
    try:
        heading = " (fsync and synchronous_commit on)"
        env = {**env, "BENCH_DATABASE_URL": url}
        return sum(not run(script, "postgres", env, heading) for script in scripts)
    finally:
        subprocess.run([pg, "stop"], check=False, env=cluster)  # noqa: S603


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the benchmarks.")
    parser.add_argument("--only", nargs="+", metavar="SCRIPT", help="e.g. bench_faults.py")
    only = parser.parse_args().only
    names = [script for script, _ in BENCHMARKS]
    if only and set(only) - set(names):
        parser.error(f"no such benchmark: {', '.join(sorted(set(only) - set(names)))}")
    selected = [(script, dbs) for script, dbs in BENCHMARKS if not only or script in only]
    env = dict(os.environ)
    pg = str(ROOT / ".ci" / "pg")
    started_pg = False
    if "BENCH_DATABASE_URL" not in env:
        # Stop the cluster afterwards only if this run started it.
        started_pg = subprocess.run([pg, "status"], check=False).returncode != 0  # noqa: S603
        url = subprocess.run(  # noqa: S603
            [pg, "start"], check=True, capture_output=True, text=True
        ).stdout.strip()
        env["BENCH_DATABASE_URL"] = url
    failures = 0
    try:
        for script, databases in selected:
            failures += sum(not run(script, db, env) for db in databases)
        durable = [script for script, _ in selected if script in DURABLE]
        if durable:
            failures += durable_pass(durable, env)
    finally:
        if started_pg:
            subprocess.run([pg, "stop"], check=False)  # noqa: S603
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
