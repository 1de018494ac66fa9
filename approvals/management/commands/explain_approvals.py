"""`manage.py explain_approvals DEAL`: why a deal needs (or got) which approvals, as JSON."""

import json

from django.core.management.base import BaseCommand

from approvals.selectors import explanation
from dealdesk.management.deal_argument import deal_from_argument


class Command(BaseCommand):
    help = "Print a deal's gate results, fired rules and approval requests as one JSON object."

    def add_arguments(self, parser) -> None:
        parser.add_argument("deal", help="the deal's id or CRM id")

    def handle(self, *args, deal: str, **options) -> None:
        found = deal_from_argument(deal)
        self.stdout.write(json.dumps(explanation(found), indent=2, default=str))
