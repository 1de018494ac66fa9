from django.core.management.base import BaseCommand, CommandError

from audit.anchors import AnchorStoreError, anchor_store
from audit.verify import verify_chain


class Command(BaseCommand):
    help = (
        "Recompute the audit event hash chain and check it against the anchors in "
        "AUDIT_ANCHOR_URL; fail naming the first broken sequence number."
    )

    def add_arguments(self, parser):
        parser.add_argument("--chunk-size", type=int, default=5000, help="rows fetched at a time")

    def handle(self, *args, **options):
        try:
            anchors = anchor_store().read()
        except AnchorStoreError as exc:
            raise CommandError(f"audit anchors unreadable: {exc}") from exc
        report = verify_chain(chunk_size=options["chunk_size"], anchors=anchors)
        if not report.ok:
            raise CommandError(
                f"audit chain broken at seq {report.broken_seq}: {report.problem} "
                f"({report.count} events verified before it)"
            )
        self.stdout.write(f"verified {report.count} events")
