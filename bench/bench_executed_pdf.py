"""Executed PDF speed: a 10-page approved contract + certificate page + PAdES seal.

The approved contract is bench_contracts' terms-heavy order form (10 pages), rendered once; each run
draws the certificate page (two signers), appends it with pypdf and seals with the
development certificate (made once, in a temporary directory, before timing). Verification
is reported too. No database needed: run as `.venv/bin/python bench/bench_executed_pdf.py`.
"""

import hashlib
import io
import os
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# Before Django reads its settings: the development seal goes to a throwaway directory.
_SEAL_DIR = tempfile.TemporaryDirectory()
os.environ["ESIGN_DEV_SEAL_DIR"] = _SEAL_DIR.name
os.environ.pop("ESIGN_SEAL_P12", None)

from pypdf import PdfReader  # noqa: E402

from bench.bench_contracts import terms_heavy_snapshot  # noqa: E402 - sets Django up
from bench.harness import median, parse_db_arg, percentile, report, timed  # noqa: E402
from contracts.document_templates import order_form_html  # noqa: E402 - after django.setup()
from contracts.esign.certificate_page import SignerRecord, SigningRecord  # noqa: E402
from contracts.esign.executed import executed_pdf, verify_executed_pdf  # noqa: E402
from contracts.rendering import document_context, render_pdf  # noqa: E402

TARGET_MS, RUNS = 400.0, 15


def signing_record(approved: bytes) -> SigningRecord:
    signed = datetime(2026, 12, 5, 14, 3, 22, tzinfo=UTC)
    signers = tuple(
        SignerRecord(
            name=name,
            email=email,
            role=role,
            signed_at=signed + timedelta(minutes=n),
            ip=f"203.0.113.{n + 1}",
            user_agent="Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15",
            consent_text="I agree to sign this contract electronically.",
            typed_name=name,
        )
        for n, (name, email, role) in enumerate(
            [
                ("Aiko Tanaka (田中愛子)", "a@example.com", "Customer signatory"),
                ("Sam Provider", "sam@dealdesk.example", "Provider signatory"),
            ]
        )
    )
    return SigningRecord(
        request_id="SR-BENCH-0001",
        document_sha256=hashlib.sha256(approved).hexdigest(),
        signers=signers,
        completed_at=signed + timedelta(minutes=5),
        development_seal=True,
    )


def main() -> None:
    parse_db_arg(__doc__)  # pure: --db is accepted and ignored
    approved = render_pdf(
        order_form_html(), document_context(terms_heavy_snapshot(), version_number=1)
    )
    record = signing_record(approved)
    executed = executed_pdf(approved, record)  # also makes the development certificate
    pages = len(PdfReader(io.BytesIO(approved)).pages)
    assert verify_executed_pdf(executed, expected_document_sha256=record.document_sha256) == []

    seal_ms = timed(lambda: executed_pdf(approved, record), runs=RUNS)
    name = f"executed PDF, {pages}-page contract + certificate + seal"
    report(f"{name}, median", median(seal_ms), "ms", f"<= {TARGET_MS:.0f} ms")
    report(f"{name}, p95", percentile(seal_ms, 95), "ms")
    verify_ms = timed(lambda: verify_executed_pdf(executed), runs=RUNS)
    report("executed PDF verification, median", median(verify_ms), "ms")


if __name__ == "__main__":
    try:
        main()
    finally:
        _SEAL_DIR.cleanup()
