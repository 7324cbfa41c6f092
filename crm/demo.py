"""A believable demo data set, so a first run shows a working CRM rather than empty tables.

Built only through the same service functions as real use, so the ledger, hashes and derived
statuses in the demo are genuine. Idempotent: a second run finds the demo campaigns and stops.
"""

import datetime
import functools
import random

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from crm import services
from crm.models import Campaign, CampaignMember, Content, Creator, Platform, SocialAccount, Tag

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo"
TEAMMATES = [("sam", "Sam", "Okafor"), ("riley", "Riley", "Chen")]

FIRST_NAMES = [
    "Maya", "Leo", "Aisha", "Noah", "Chloe", "Mateo", "Priya", "Lucas", "Zara", "Ethan", "Sofia", "Kai",
    "Amara", "Finn", "Isla", "Omar", "Hana", "Jonas", "Lena", "Diego", "Nina", "Arjun", "Elif", "Tom",
    "Yuki", "Ines", "Felix", "Mila", "Sami", "Ava", "Ruby", "Theo", "Layla", "Hugo", "Freya", "Ravi",
]  # fmt: skip
LAST_NAMES = [
    "Hart", "Nguyen", "Bello", "Silva", "Moreau", "Kowalski", "Rahman", "Fischer", "Costa", "Lindqvist",
    "Okoye", "Tanaka", "Garcia", "Murphy", "Rossi", "Haddad", "Novak", "Park",
]  # fmt: skip
NICHES = ["skincare", "fitness", "vegan food", "travel", "parenting", "streetwear", "gaming", "wellness"]
COUNTRIES = [("GB", "en"), ("US", "en"), ("DE", "de"), ("FR", "fr"), ("ES", "es"), ("BR", "pt-BR"), ("IE", "en")]
TERMS_TEXT = (
    "By replying with the approval hashtag you grant Acme Skin Ltd a non-exclusive, royalty-free licence "
    "to reproduce the post named in our message, with credit to you, in the channels and territory stated, "
    "for the period stated. You can withdraw this permission at any time by replying STOP RIGHTS; uses "
    "already published stay online for at most 30 days after that."
)
CAMPAIGNS = [
    ("Summer Glow 2026", "Acme Skin", Campaign.Status.ACTIVE, "#YesAcme", "Reposts of SPF routines for paid social"),
    ("Trail Mix Launch", "Northbound Foods", Campaign.Status.DRAFT, "#YesNorthbound", "Seed the new bar with creators"),
    ("Winter Layers", "Kestrel Outdoor", Campaign.Status.COMPLETED, "#YesKestrel", "Cold-weather outfit UGC"),
]
DEMO_CREATORS = 48
STAGE_CYCLE = list(CampaignMember.Stage.values)


def demo_exists() -> bool:
    return Campaign.objects.filter(name=CAMPAIGNS[0][0], brand=CAMPAIGNS[0][1]).exists()


def demo_password_hash() -> str:
    return make_password(DEMO_PASSWORD)


def ensure_demo_login(password_hash=demo_password_hash):
    """The demo's superuser, created once; its password is only ever the documented demo one."""
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=DEMO_USERNAME,
        defaults={"is_staff": True, "is_superuser": True, "first_name": "Demo", "email": "demo@example.com"},
    )
    if created:
        user.password = password_hash()
        user.save(update_fields=["password"])
    return user


@transaction.atomic
def seed_demo() -> bool:
    """Create the demo data set; returns False when it was already there."""
    # One hash for all the demo's new users (the password is public): each costs a third of a second of
    # CPU, by design of PBKDF2.
    password_hash = functools.cache(demo_password_hash)
    demo_user = ensure_demo_login(password_hash)
    if demo_exists():
        return False
    rng = random.Random(2026)
    User = get_user_model()
    teammates = []
    for username, first, last in TEAMMATES:
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last, "email": f"{username}@example.com"}
        )
        if created:
            user.password = password_hash()
            user.save(update_fields=["password"])
        teammates.append(user)
    tags = {name: Tag.objects.get_or_create(name=name)[0] for name in [*NICHES, "top tier", "gifted before"]}

    people = []
    platforms = [Platform.INSTAGRAM, Platform.TIKTOK, Platform.X, Platform.YOUTUBE, Platform.WHATSAPP]
    for index in range(DEMO_CREATORS):
        first, last = FIRST_NAMES[index % len(FIRST_NAMES)], LAST_NAMES[(index * 7) % len(LAST_NAMES)]
        country, language = COUNTRIES[index % len(COUNTRIES)]
        creator = Creator.objects.create(
            name=f"{first} {last}",
            email=f"{first}.{last}{index}@example.com".lower(),
            country=country,
            language=language,
            owner=[demo_user, *teammates][index % 3],
            status=[Creator.Status.PROSPECT, Creator.Status.ACTIVE, Creator.Status.PARTNER][index % 3],
        )
        niche = NICHES[index % len(NICHES)]
        creator.tags.add(tags[niche], *([tags["top tier"]] if index % 5 == 0 else []))
        handle_base = f"{first}{last}".lower() + ("" if index < len(FIRST_NAMES) else str(index))
        for platform in rng.sample(platforms[:4], k=rng.randint(1, 3)):
            SocialAccount.objects.create(
                creator=creator,
                platform=platform,
                handle=handle_base if platform != Platform.X else handle_base[:15],
                follower_count=rng.choice([2_400, 8_900, 15_000, 48_000, 120_000, 640_000]),
                platform_user_id=str(17_841_400_000_000_000 + index) if platform == Platform.INSTAGRAM else None,
            )
        if index % 6 == 0:
            SocialAccount.objects.create(creator=creator, platform=Platform.WHATSAPP, handle=f"4477009{index:05d}")
        people.append(creator)

    now = timezone.now()
    campaigns = []
    for number, (name, brand, status, hashtag, goal) in enumerate(CAMPAIGNS):
        campaign = Campaign.objects.create(
            name=name,
            brand=brand,
            goal=goal,
            status=status,
            owner=demo_user,
            approval_hashtag=hashtag,
            terms_url=f"https://{brand.split()[0].lower()}.example.com/ugc-terms",
            terms_version="2026-1",
            starts_on=(now + datetime.timedelta(days=[-30, 14, -120][number])).date(),
            ends_on=(now + datetime.timedelta(days=[45, 75, -20][number])).date(),
        )
        campaign.team.set(teammates[: number + 1])
        members = people[number * 12 : number * 12 + 20]
        for position, creator in enumerate(members):
            stage = STAGE_CYCLE[position % len(STAGE_CYCLE)] if status != Campaign.Status.DRAFT else "prospect"
            CampaignMember.objects.create(
                campaign=campaign, creator=creator, stage=stage, assignee=[demo_user, *teammates][position % 3]
            )
        campaigns.append((campaign, members))

    _seed_rights(campaigns[0], demo_user, now)
    _seed_rights(campaigns[2], teammates[0], now)
    services.opt_out(
        people[-1],
        actor=None,
        evidence=services.Evidence(
            channel="instagram", message_id="demo-mid-stop", text="STOP", rule="opt-out keyword: STOP", occurred_at=now
        ),
    )
    services.allow_contact(
        people[1],
        actor=demo_user,
        evidence=services.Evidence(channel="email", text="Happy to hear about paid collabs!", occurred_at=now),
    )
    return True


def _seed_rights(campaign_and_members, actor, now):
    """Content and one permission request in each status for a campaign."""
    campaign, members = campaign_and_members
    scope = services.Scope(channels=["organic_social", "paid_ads"], territory="GB, IE, US", duration_days=180)
    outcomes = ["draft", "requested", "granted", "declined", "expired", "revoked", "granted", "requested"]
    for position, outcome in enumerate(outcomes):
        creator = members[position]
        account = creator.accounts.exclude(platform=Platform.WHATSAPP).first()
        content = Content.objects.create(
            creator=creator,
            social_account=account,
            campaign=campaign,
            platform=account.platform,
            url=_post_url(account, f"{campaign.pk}0{position:03d}"),
            caption=f"My {campaign.brand} routine, no filter ✨",
            posted_at=now - datetime.timedelta(days=20 - position),
        )
        request = services.request_permission(
            content, actor=actor, scope=scope, terms_url=campaign.terms_url, terms_text=TERMS_TEXT, campaign=campaign
        )
        if outcome == "draft":
            continue
        asked = now - datetime.timedelta(days=10 - position)
        services.mark_permission_requested(
            request,
            request_text=(
                f"Hi {creator.first_name}! We love this post and would like to share it on {campaign.brand}'s "
                f"channels. Reply {campaign.approval_hashtag} to agree to our terms: {campaign.terms_url}"
            ),
            sent_at=asked,
        )
        said = asked + datetime.timedelta(hours=3)
        message = services.Evidence(channel=account.platform, message_id=f"demo-mid-{campaign.pk}-{position}")
        if outcome in {"granted", "revoked"}:
            services.grant_rights(
                request,
                actor=None,
                evidence=services.Evidence(
                    channel=message.channel,
                    message_id=message.message_id,
                    text=f"Of course! {campaign.approval_hashtag}",
                    rule=f"approval hashtag {campaign.approval_hashtag}",
                    occurred_at=said,
                ),
            )
        if outcome == "revoked":
            services.revoke_rights(
                request,
                actor=actor,
                evidence=services.Evidence(
                    channel="email",
                    text="Please stop using my photo, thanks.",
                    occurred_at=said + datetime.timedelta(days=2),
                ),
            )
        elif outcome == "declined":
            services.decline_rights(
                request,
                actor=actor,
                evidence=services.Evidence(
                    channel=message.channel, message_id=message.message_id, text="No thanks", occurred_at=said
                ),
            )
        elif outcome == "expired":
            services.expire_rights(request, evidence=services.Evidence(rule="no answer in 14 days", occurred_at=said))


def _post_url(account: SocialAccount, post_id: str) -> str:
    if account.platform == Platform.TIKTOK:
        return f"https://www.tiktok.com/@{account.handle}/video/7{post_id}"
    if account.platform == Platform.X:
        return f"https://x.com/{account.handle}/status/18{post_id}"
    if account.platform == Platform.YOUTUBE:
        return f"https://www.youtube.com/watch?v=dQ{post_id}"
    return f"https://www.instagram.com/p/C{post_id}/"
