"""What the platforms are and what they allow, as facts (PLATFORMS.md): the brand's sending platforms,
which creator account each writes to, text length limits and send rate limits.

A leaf module: the models, the template language and the policy read it; it imports nothing of ours.
"""

from django.db import models


class SenderPlatform(models.TextChoices):
    """The brand's side of a conversation: where a sender account sends from."""

    INSTAGRAM = "instagram", "Instagram"
    MESSENGER = "messenger", "Facebook Messenger"
    X = "x", "X"
    TIKTOK = "tiktok", "TikTok"
    WHATSAPP = "whatsapp", "WhatsApp"
    EMAIL = "email", "Email"
    LINKEDIN = "linkedin", "LinkedIn (manual only)"


# Which creator account (crm platform) a sender platform writes to; email writes to creator.email.
RECIPIENT_PLATFORM = {
    SenderPlatform.INSTAGRAM: "instagram",
    SenderPlatform.MESSENGER: "facebook",
    SenderPlatform.X: "x",
    SenderPlatform.TIKTOK: "tiktok",
    SenderPlatform.WHATSAPP: "whatsapp",
    SenderPlatform.LINKEDIN: "linkedin",
}

# Text limits checked when a template is saved and again when a message is rendered.
LENGTH_LIMITS = {
    SenderPlatform.INSTAGRAM: ("bytes", 1000),
    SenderPlatform.MESSENGER: ("chars", 2000),
    SenderPlatform.X: ("chars", 10_000),
    SenderPlatform.TIKTOK: ("chars", 6000),
    SenderPlatform.WHATSAPP: ("chars", 4096),
    SenderPlatform.EMAIL: ("chars", 100_000),
    SenderPlatform.LINKEDIN: ("chars", 8000),
}
EMAIL_SUBJECT_LIMIT = 200

# Platform send limits (PLATFORMS.md section 8): per second, per 15 minutes, per 24 hours.
PLATFORM_RATE_DEFAULTS = {
    SenderPlatform.INSTAGRAM: (300, None, None),
    SenderPlatform.MESSENGER: (300, None, None),
    SenderPlatform.X: (1, 200, 1000),
    SenderPlatform.TIKTOK: (5, None, 200),
    SenderPlatform.WHATSAPP: (80, None, None),
    SenderPlatform.EMAIL: (5, None, 5000),
    SenderPlatform.LINKEDIN: (1, None, None),
}


def text_length(platform: str, text: str) -> tuple[int, int, str]:
    """(length, limit, unit) of a text on a platform; Instagram counts UTF-8 bytes."""
    unit, limit = LENGTH_LIMITS[platform]
    length = len(text.encode("utf-8")) if unit == "bytes" else len(text)
    return length, limit, unit
