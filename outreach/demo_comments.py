"""The demo's comments: one of Acme's posts with comments to answer (a known creator, a stranger who
asks for the guide, a fan), a GUIDE keyword rule, and a creator's post that mentions Acme, found and
ready for a rights request. Used by `manage.py sandbox --setup-demo`, which also tells the sandbox's
fake Graph API about the same post and comments so answering them works."""

import datetime

from django.utils import timezone

from crm import handles
from crm.models import Content, SocialAccount
from outreach.models import BrandPost, Comment, DiscoveredMedia, KeywordRule, MessageTemplate, SenderAccount

DEMO_POST = "18020000000000001"
DEMO_MENTION = "18020000000000002"
BRAND_USERNAME = "acme"
COMMENTS = [
    # comment id, username, igsid, text, minutes ago
    ("17920000000000001", None, "9920000000000001", "Obsessed with this serum! Does it work on oily skin?", 90),
    ("17920000000000002", "glow.with.sam", "9920000000000002", "GUIDE please", 45),
    ("17920000000000003", "nina.loves.skin", "9920000000000003", "Just ordered mine", 10),
]


def seed_comment_demo(sender: SenderAccount) -> BrandPost:
    """Idempotent: the post, its comments, the keyword rule and a found mention."""
    now = timezone.now()
    post, _ = BrandPost.objects.get_or_create(
        platform="instagram",
        media_id=DEMO_POST,
        defaults={
            "sender_account": sender,
            "media_product_type": "FEED",
            "permalink": f"https://www.instagram.com/p/{DEMO_POST}/",
            "caption": "Meet the Summer Glow serum. Comment GUIDE for our routine guide.",
        },
    )
    known = SocialAccount.objects.filter(platform="instagram").select_related("creator").order_by("id").first()
    for comment_id, username, igsid, text, minutes in COMMENTS:
        account = known if username is None else None
        Comment.objects.get_or_create(
            platform="instagram",
            comment_id=comment_id,
            defaults={
                "post": post,
                "sender_account": sender,
                "media_id": DEMO_POST,
                "from_id": igsid,
                "from_username": (account.handle if account else username) or "",
                "creator": account.creator if account else None,
                "text": text,
                "created_time": now - datetime.timedelta(minutes=minutes),
            },
        )
    template, _ = MessageTemplate.objects.get_or_create(
        name="Routine guide (private reply)",
        defaults={
            "platforms": ["instagram"],
            "body": 'Hi {{ creator.first_name|default:"there" }}! Here is our routine guide: '
            "https://acme.example.com/guide",
        },
    )
    KeywordRule.objects.get_or_create(sender_account=sender, keyword="GUIDE", defaults={"template": template})
    if known:
        permalink = f"https://www.instagram.com/p/{DEMO_MENTION}/"
        content, _ = Content.objects.get_or_create(
            url=handles.normalize_content_url(permalink),
            defaults={"creator": known.creator, "platform": "instagram", "platform_post_id": DEMO_MENTION},
        )
        DiscoveredMedia.objects.get_or_create(
            sender_account=sender,
            media_id=DEMO_MENTION,
            source=DiscoveredMedia.Source.CAPTION_MENTION,
            defaults={
                "username": known.handle,
                "permalink": permalink,
                "caption": f"My summer routine with @{BRAND_USERNAME} #summerglow",
                "media_type": "IMAGE",
                "posted_at": now - datetime.timedelta(hours=5),
                "fetched_at": now,
                "creator": known.creator,
                "content": content,
            },
        )
    return post


def sandbox_state() -> dict:
    """What the sandbox's fake Graph API must know for the demo: the posts and the comments on them."""
    media = [{"media_id": DEMO_POST, "owner": None, "caption": "Meet the Summer Glow serum."}]
    found = DiscoveredMedia.objects.filter(media_id=DEMO_MENTION).first()
    if found:
        media.append({"media_id": DEMO_MENTION, "owner": found.username, "caption": found.caption})
    comments = [
        {
            "comment_id": c.comment_id,
            "media_id": c.media_id,
            "from_id": c.from_id,
            "username": c.from_username,
            "text": c.text,
            "at": c.created_time.timestamp(),
        }
        for c in Comment.objects.filter(media_id=DEMO_POST, ours=False)
    ]
    return {"media": media, "comments": comments}
