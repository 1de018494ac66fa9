"""`manage.py bill_deal DEAL`: (re)run the billing step for a signed deal — after Finance fixed
what a billing exception named. Idempotent: a deal already billed is left as it is."""

import json

from django.core.management.base import BaseCommand, CommandError

from billing import services
from billing.models import BillingRecord
from dealdesk.management.deal_argument import deal_from_argument
from dealdesk.services import pipeline_user


class Command(BaseCommand):
    help = "Bill a signed deal again (after a billing exception was fixed); prints the outcome."

    def add_arguments(self, parser) -> None:
        parser.add_argument("deal", help="the deal's id or CRM id")

    def handle(self, *args, deal: str, **options) -> None:
        found = deal_from_argument(deal)
        # The command runs as the pipeline (an operator's shell has no user of ours); the
        # audit log records the pipeline's retry of the exception.
        record = services.billing_retry(deal_id=found.pk, actor=pipeline_user())
        found.refresh_from_db()
        # Billed before: said as it stands (running the command twice is harmless).
        record = record or BillingRecord.objects.filter(deal=found).order_by("-pk").first()
        if record is None:
            raise CommandError(
                f"deal {found.crm_id} is {found.get_state_display().lower()}: nothing to bill"
            )
        self.stdout.write(
            json.dumps(
                {
                    "deal": found.crm_id,
                    "deal_state": found.state,
                    "billing": record.state,
                    "problems": record.problems,
                    "diff": record.diff,
                },
                indent=2,
            )
        )
