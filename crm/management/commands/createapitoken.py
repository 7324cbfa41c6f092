"""manage.py createapitoken --username NAME [--role admin|manager|viewer]: a key for another tool."""

import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from crm.models import Role
from crm.services import create_api_token


class Command(BaseCommand):
    help = "Create an API token for a user and print the key once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--role", choices=Role.values, help="Also set the user's role.")
        parser.add_argument("--name", default="API token", help="What the token is for, e.g. 'Ads manager sync'.")
        parser.add_argument("--expires-in-days", type=int, help="Stop working after this many days.")

    def handle(self, *args, username, role, name, expires_in_days, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user named {username!r}.")
        expires_at = timezone.now() + datetime.timedelta(days=expires_in_days) if expires_in_days else None
        try:
            token, key = create_api_token(user, name=name, role=role, expires_at=expires_at)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stdout.write(key)
        self.stderr.write(f"Token {token.prefix}… for {username} created; the key above is shown only now.")
