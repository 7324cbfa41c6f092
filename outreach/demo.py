"""The outreach half of the demo: sender accounts wired to the sandbox, and creators who wrote first.

Used by `manage.py sandbox --setup-demo`; the CRM demo (`seed_demo`) must exist first.
"""

import datetime

from django.utils import timezone

from crm.models import SocialAccount
from outreach.models import Conversation, MessageTemplate, SenderAccount, Sequence, SequenceStep

SANDBOX_TOKEN = "sandbox-token"
DEMO_SENDERS = [
    # name, platform, variant, account id, sandbox service
    ("Acme Instagram (sandbox)", "instagram", "instagram_login", "17841400000000001", "meta"),
    ("Acme WhatsApp (sandbox)", "whatsapp", "", "106000000000001", "meta"),
    ("Acme on X (sandbox)", "x", "", "1500000000000000001", "x"),
    ("Acme TikTok (sandbox)", "tiktok", "", "7000000000000000001", "tiktok"),
    ("Acme partnerships email (sandbox)", "email", "", "partners@acme.example.com", "smtp"),
]


def setup_demo(urls: dict[str, str]) -> list[SenderAccount]:
    """Point the demo's sender accounts at the sandbox; a third of Instagram creators 'wrote first'."""
    senders = []
    for name, platform, variant, account_id, service in DEMO_SENDERS:
        sender, _ = SenderAccount.objects.update_or_create(
            name=name,
            defaults={
                "platform": platform,
                "variant": variant,
                "account_id": account_id,
                "api_base_url": urls[service],
            },
        )
        sender.set_access_token(SANDBOX_TOKEN)
        sender.from_name = "Acme Partnerships" if platform == "email" else ""
        sender.save()
        senders.append(sender)
    now = timezone.now()
    instagram = SocialAccount.objects.filter(platform="instagram", platform_user_id__isnull=False).order_by("id")
    for position, account in enumerate(instagram):
        if position % 3 == 0:
            Conversation.objects.get_or_create(
                creator=account.creator,
                platform="instagram",
                defaults={"social_account": account, "last_inbound_at": now - datetime.timedelta(hours=2 + position)},
            )
    MessageTemplate.objects.get_or_create(
        name="Intro DM",
        defaults={
            "platforms": ["instagram", "tiktok", "x", "whatsapp"],
            "body": "Hi {{ creator.first_name }}! Thanks for your message. {{ campaign.brand }} would love to "
            "feature you in {{ campaign.name }}. Interested?",
        },
    )
    email, _ = MessageTemplate.objects.get_or_create(
        name="Intro email",
        defaults={
            "platforms": ["email"],
            "subject": "{{ campaign.brand }} x {{ creator.first_name }}",
            "body": "Hi {{ creator.first_name }},\n\nWe are {{ campaign.brand }} and we love your work. "
            "Would you like to join {{ campaign.name }}?\n\nThe {{ campaign.brand }} team",
        },
    )
    follow_up, _ = MessageTemplate.objects.get_or_create(
        name="Gentle follow-up",
        defaults={
            "platforms": ["email"],
            "subject": "Following up",
            "body": "Hi {{ creator.first_name }}, any thoughts?",
        },
    )
    sequence, created = Sequence.objects.get_or_create(name="Email intro + follow-up")
    if created:
        SequenceStep.objects.create(sequence=sequence, position=0, template=email)
        SequenceStep.objects.create(sequence=sequence, position=1, template=follow_up, delay_days=4)
    return senders


def windows_to_open(now=None) -> list[tuple[str, str, float]]:
    """(platform, recipient id, unix time) of creators' last messages, for the sandbox to know them."""
    now = now or timezone.now()
    since = now - datetime.timedelta(days=7)
    rows = []
    for conversation in Conversation.objects.filter(last_inbound_at__gte=since).select_related("social_account"):
        account = conversation.social_account
        if account is None or not account.platform_user_id:
            continue
        rows.append((conversation.platform, account.platform_user_id, conversation.last_inbound_at.timestamp()))
    return rows
