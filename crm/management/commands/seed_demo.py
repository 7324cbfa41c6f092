"""manage.py seed_demo: load the demo data set once, and the demo login."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from crm.demo import DEMO_PASSWORD, DEMO_USERNAME, seed_demo


class Command(BaseCommand):
    help = (
        "Create believable demo data (creators on several platforms, three campaigns, content, permission "
        "requests in every status, consent events) and a demo login. Safe to run again: it does nothing twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Allow it with DJANGO_ENV=production.")

    def handle(self, *args, force: bool, **options):
        if settings.PRODUCTION and not force:
            raise CommandError("Refusing to load demo data and a demo login in production; pass --force to insist.")
        created = seed_demo()
        self.stdout.write("Demo data loaded." if created else "Demo data already present; nothing changed.")
        self.stdout.write(f"Demo login: {DEMO_USERNAME} / {DEMO_PASSWORD}")
