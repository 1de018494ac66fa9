"""`manage.py explain_approvals DEAL`: why a deal needs (or got) which approvals, as JSON."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from approvals.selectors import explanation
from dealdesk.models import Deal


class Command(BaseCommand):
    help = "Print a deal's gate results, fired rules and approval requests as one JSON object."

    def add_arguments(self, parser) -> None:
        parser.add_argument("deal", help="the deal's id or CRM id")

    def handle(self, *args, deal: str, **options) -> None:
        lookup = Q(crm_id=deal) | Q(pk=int(deal)) if deal.isdigit() else Q(crm_id=deal)
        found = Deal.objects.filter(lookup).select_related("account").first()
        if found is None:
            raise CommandError(f"no deal with id or CRM id {deal!r}")
        self.stdout.write(json.dumps(explanation(found), indent=2, default=str))
