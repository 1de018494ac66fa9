"""`make bench`: run every benchmark, each in its own process, on SQLite and PostgreSQL.

PostgreSQL comes from BENCH_DATABASE_URL, or else a throwaway cluster from `.ci/pg` (stopped
at the end if this run started it). Each benchmark prints its own figures.
"""

import os
import subprocess
import sys
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
    ("bench_pipeline.py", ["postgres"]),  # 1,000 deals CRM → paid, eager: ~20 min
    ("bench_faults.py", ["postgres"]),  # its own PostgreSQL, Redis, workers and gunicorn
]


def main() -> int:
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
        for script, databases in BENCHMARKS:
            for db in databases:
                print(f"\n== {script} --db {db}", flush=True)
                result = subprocess.run(  # noqa: S603
                    [sys.executable, str(BENCH / script), "--db", db], cwd=ROOT, env=env
                )
                failures += result.returncode != 0
    finally:
        if started_pg:
            subprocess.run([pg, "stop"], check=False)  # noqa: S603
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
