"""manage.py creator_says: in the demo, a creator writes to the brand's Instagram (sandbox only).

The sandbox opens the messaging window as Instagram would, then a webhook signed with
META_APP_SECRET is posted to this CRM, exactly as Meta would post it.
"""

import json
import time
import uuid

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from crm.models import SocialAccount
from outreach.demo import DEMO_SENDERS
from outreach.webhooks.meta import sign


class Command(BaseCommand):
    help = (
        "Demo only: make a creator write to the brand's Instagram in the sandbox, and deliver the signed "
        "webhook to this CRM, e.g. creator_says --handle mayahart '#YesAcme'."
    )

    def add_arguments(self, parser):
        parser.add_argument("text", help="What the creator writes.")
        parser.add_argument("--handle", required=True, help="The creator's Instagram handle.")
        parser.add_argument("--sandbox-url", default="http://127.0.0.1:8700", help="The sandbox's Meta address.")
        parser.add_argument("--crm-url", default=None, help="This CRM's address (default: PUBLIC_URL).")

    def handle(self, *args, text, handle, sandbox_url, crm_url, **options):
        if settings.PRODUCTION:
            raise CommandError("creator_says is for the demo's sandbox; it does not run in production.")
        if not settings.META_APP_SECRET:
            raise CommandError("META_APP_SECRET is not set: the CRM would refuse the webhook (make run sets one).")
        account = SocialAccount.objects.filter(platform="instagram", handle=handle.lstrip("@").lower()).first()
        if account is None or not account.platform_user_id:
            raise CommandError(f"No Instagram creator @{handle} with a known Instagram id.")
        business = DEMO_SENDERS[0][3]
        try:
            requests.post(f"{sandbox_url}/_sandbox/{business}/users/{account.platform_user_id}/wrote", timeout=5)
        except requests.RequestException as error:
            raise CommandError(f"The sandbox does not answer at {sandbox_url}: {error}") from None
        now = int(time.time() * 1000)
        event = {
            "sender": {"id": account.platform_user_id},
            "recipient": {"id": business},
            "timestamp": now,
            "message": {"mid": f"sandbox-{uuid.uuid4().hex}", "text": text},
        }
        body = json.dumps({"object": "instagram", "entry": [{"id": business, "time": now, "messaging": [event]}]})
        url = f"{(crm_url or settings.PUBLIC_URL).rstrip('/')}/webhooks/meta/"
        try:
            response = requests.post(
                url,
                data=body.encode(),
                headers={
                    "Content-Type": "application/json",
                    "X-Hub-Signature-256": sign(body.encode(), settings.META_APP_SECRET),
                },
                timeout=10,
            )
        except requests.RequestException as error:
            raise CommandError(f"The CRM does not answer at {url}: {error}") from None
        if response.status_code != 200:
            raise CommandError(f"The CRM refused the webhook ({response.status_code}): {response.text[:200]}")
        self.stdout.write(f"@{account.handle} wrote {text!r}; the CRM received it.")
