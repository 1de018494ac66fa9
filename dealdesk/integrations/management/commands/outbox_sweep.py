"""Send every due pipeline step and webhook event now: what Celery beat does every minute."""

import json

from django.core.management.base import BaseCommand

from dealdesk.integrations import outbox, webhooks


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options) -> None:
        sent = {"outbox": outbox.outbox_sweep(), "webhooks": webhooks.webhook_sweep()}
        self.stdout.write(json.dumps(sent))
