from django.core.management.base import BaseCommand

from audit.services import audit_anchor_head


class Command(BaseCommand):
    help = "Anchor the audit chain head (seq, hash, time, HMAC) to AUDIT_ANCHOR_URL."

    def handle(self, *args, **options):
        anchor = audit_anchor_head()
        self.stdout.write(f"anchored seq {anchor.seq} ({anchor.hash}) at {anchor.anchored_at}")
