"""manage.py creator_comments: in the demo, someone comments on the brand's Instagram post (sandbox only).

The sandbox records the comment as Instagram would and posts the signed `comments` webhook to this
CRM (the sandbox signs with META_APP_SECRET and posts to PUBLIC_URL), e.g.
`creator_comments --handle glow.with.sam 'GUIDE please'` for the demo's GUIDE keyword rule.
"""

import zlib

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from outreach.demo import DEMO_SENDERS
from outreach.demo_comments import DEMO_POST


class Command(BaseCommand):
    help = "Demo only: someone comments on the brand's Instagram post in the sandbox; the webhook reaches this CRM."

    def add_arguments(self, parser):
        parser.add_argument("text", help="The comment.")
        parser.add_argument("--handle", required=True, help="The commenter's Instagram username.")
        parser.add_argument("--media", default=DEMO_POST, help="The post's id (default: the demo's post).")
        parser.add_argument("--sandbox-url", default="http://127.0.0.1:8700", help="The sandbox's Meta address.")

    def handle(self, *args, text, handle, media, sandbox_url, **options):
        if settings.PRODUCTION:
            raise CommandError("creator_comments is for the demo's sandbox; it does not run in production.")
        username = handle.lstrip("@").lower()
        from_id = str(9_930_000_000_000_000 + zlib.crc32(username.encode()))  # the same id for the same name
        url = f"{sandbox_url.rstrip('/')}/_sandbox/{DEMO_SENDERS[0][3]}/media/{media}/comments"
        try:
            answer = requests.post(url, json={"from_id": from_id, "username": username, "text": text}, timeout=15)
        except requests.RequestException as error:
            raise CommandError(f"The sandbox does not answer at {sandbox_url}: {error}") from None
        if answer.status_code != 200:
            raise CommandError(f"The sandbox refused: {answer.text[:300]}")
        self.stdout.write(
            f"@{username} commented ({answer.json()['id']}); the CRM answered {answer.json()['delivered']}."
        )
