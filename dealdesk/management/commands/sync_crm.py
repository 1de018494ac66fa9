"""`manage.py sync_crm [--full]`: one CRM sync run; the last stdout line is its counts as JSON."""

import json

from django.core.management.base import BaseCommand, CommandError

from dealdesk.crm.lock import SyncAlreadyRunning
from dealdesk.crm.models import SyncRun
from dealdesk.crm.sync import crm_sync


class Command(BaseCommand):
    help = "Import won deals, accounts and products from the CRM (incremental unless --full)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--full", action="store_true", help="ignore the watermarks: fetch every record"
        )

    def handle(self, *args, full: bool = False, **options) -> None:
        try:
            run = crm_sync(full=full)
        except SyncAlreadyRunning as exc:
            raise CommandError(str(exc)) from exc
        for error in run.errors:
            self.stderr.write(error)
        self.stdout.write(
            json.dumps({"run": run.pk, "status": run.status, "counts": run.counts}, sort_keys=True)
        )
        if run.status not in (SyncRun.Status.SUCCEEDED, SyncRun.Status.LIMITED):
            raise CommandError(f"CRM sync #{run.pk} {run.status}")
