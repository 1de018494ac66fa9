import getpass
import hashlib
import socket
from pathlib import Path

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from audit.anchors import AnchorStoreError
from audit.evidence.chain_proof import ChainProofError
from audit.evidence.sample import PeriodError, audit_sample
from audit.evidence.services import (
    RefusedPack,
    SampleExport,
    evidence_pack_export,
    record_sample_export,
    sample_manifest,
    sample_packs,
)
from audit.evidence.sources import DEAL, StoredFileTampered, dumps


class Command(BaseCommand):
    help = (
        "Export evidence packs for auditors (docs/evidence.md): one deal's (--deal ID), or a "
        "reproducible random sample of a period's deals (--sample N --period 2026Q4 [--seed S]). "
        "Each pack is a zip with a manifest, the chain proof and verify.py."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--deal", type=int, help="the deal's id")
        which.add_argument("--sample", type=int, metavar="N", help="how many deals to draw")
        parser.add_argument("--period", help="2026 (year), 2026Q4 (quarter) or 2026-11 (month)")
        parser.add_argument("--seed", help="the draw's seed (default: a new one, printed)")
        parser.add_argument("--out", default=".", help="the folder the zips go to (default: .)")

    def handle(self, *args, **options):
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        exporter = f"manage.py export_audit ({getpass.getuser()}@{socket.gethostname()})"
        try:
            if options["deal"] is not None:
                self._deal(options["deal"], out, exporter)
            else:
                self._sample(options, out, exporter)
        except apps.get_model(DEAL).DoesNotExist as exc:
            raise CommandError(f"no deal {options['deal']}") from exc
        except (StoredFileTampered, ChainProofError, AnchorStoreError, PeriodError) as exc:
            raise CommandError(f"evidence not exported: {exc}") from exc

    def _deal(self, deal_id: int, out: Path, exporter: str) -> None:
        pack = evidence_pack_export(deal_id=deal_id, actor=None, exporter=exporter, via="command")
        (out / pack.name).write_bytes(pack.content)
        self.stdout.write(f"{out / pack.name}  sha256 {pack.sha256}")

    def _sample(self, options: dict, out: Path, exporter: str) -> None:
        if not options["period"]:
            raise CommandError("--sample needs --period (e.g. 2026Q4)")
        if options["sample"] < 1:
            raise CommandError("--sample must be at least 1")
        sample = audit_sample(
            period=options["period"], size=options["sample"], seed=options["seed"]
        )
        self.stdout.write(
            f"period {sample.period.name}: population {len(sample.population)} deals, "
            f"seed {sample.seed}, sampled {len(sample.deal_ids)}: "
            f"{', '.join(map(str, sample.deal_ids)) or 'none'}"
        )
        export = SampleExport.start()
        for pack in sample_packs(sample=sample, actor=None, exporter=exporter):
            (out / pack.name).write_bytes(pack.content)
            export.add(pack)
            if isinstance(pack, RefusedPack):
                self.stderr.write(f"{out / pack.name}  REFUSED: {pack.reason}")
            else:
                self.stdout.write(f"{out / pack.name}  sha256 {pack.sha256}")
        manifest = dumps(sample_manifest(sample, export, exporter))
        path = out / f"sample-{sample.period.name}-seed-{sample.seed}.json"
        path.write_bytes(manifest)
        digest = hashlib.sha256(manifest).hexdigest()
        record_sample_export(
            sample=sample, actor=None, export=export, via="command", manifest_sha256=digest
        )
        self.stdout.write(f"{path}  sha256 {digest}")
        if export.refused:
            # The rest of the sample is written; a script still learns that it is not whole.
            raise CommandError(
                f"{len(export.refused)} sampled deal(s) refused (records altered): "
                f"{', '.join(map(str, export.refused))}; see the REFUSED files and the audit log"
            )
