"""Print the demo users and where to log in: the last thing `make run` says before serving."""

from django.core.management.base import BaseCommand

from dealdesk.management.commands.seed_demo import DEMO_PASSWORD, USERS, signing_links


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000/", help="where the app is served"
        )

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"\nDemo users (password for all: {DEMO_PASSWORD})")
        for username, first, last, role, _staff in USERS:
            self.stdout.write(f"  {username:<14} {role:<10} {first} {last}")
        self.stdout.write("  admin          superuser")
        if links := signing_links(options["url"]):
            self.stdout.write("\nSigning links (local e-signature), each opens a signer's page:")
            for line in links:
                self.stdout.write(f"  {line}")
        self.stdout.write(f"\nOpen {options['url']} and log in as one of them.\n")
