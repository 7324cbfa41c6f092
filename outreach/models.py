"""Outreach: templates, sequences, the brand's sender accounts, conversations and the outbox.

The outbox (`OutreachMessage`) is the heart: one row per (campaign or permission request, creator,
step), unique, claimed by a worker before any platform is called, so a message goes out once.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core import crypto
from core.headersafe import validate_one_line
from crm.models import Campaign, Creator, PermissionRequest, SocialAccount
from outreach import templating
from outreach.platforms import (  # noqa: F401  (the platform facts, used as outreach.models.X too)
    EMAIL_SUBJECT_LIMIT,
    LENGTH_LIMITS,
    PLATFORM_RATE_DEFAULTS,
    RECIPIENT_PLATFORM,
    SenderPlatform,
    text_length,
)


class MessageTemplate(models.Model):
    """A message with `{{ creator.first_name }}`-style variables, checked when saved.

    Rendering is done by `outreach.templating`, which knows a fixed list of variables and nothing
    else, so a template cannot reach the database or any attribute we did not choose to expose.
    """

    name = models.CharField(max_length=200)
    platforms = models.JSONField(
        default=list, blank=True, help_text="Platforms it is written for; empty means any. Limits are checked for each."
    )
    subject = models.CharField(
        max_length=EMAIL_SUBJECT_LIMIT, blank=True, validators=[validate_one_line], help_text="Email only."
    )
    body = models.TextField()
    variables = models.JSONField(default=list, editable=False, help_text="Variables the body and subject use.")
    whatsapp_template_name = models.CharField(
        max_length=100, blank=True, help_text="Approved WhatsApp template to use outside the 24 h window."
    )
    whatsapp_template_language = models.CharField(max_length=16, default="en", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    archived_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Archived: hidden from pickers and refused by new launches and sequences; history keeps it.",
    )

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        unknown_platforms = [p for p in self.platforms if p not in SenderPlatform.values]
        if unknown_platforms:
            errors["platforms"] = f"Unknown platform(s): {', '.join(map(str, unknown_platforms))}."
        variables = set()
        for field in ("subject", "body"):
            try:
                variables |= set(templating.variables_in(getattr(self, field)))
            except templating.TemplateError as error:
                errors[field] = str(error)
        if not errors:
            errors.update(templating.check_lengths(self))
        if errors:
            raise ValidationError(errors)
        self.variables = sorted(variables)

    def save(self, *args, **kwargs):
        self.variables = sorted(set(templating.variables_in(self.subject)) | set(templating.variables_in(self.body)))
        super().save(*args, **kwargs)


class Sequence(models.Model):
    """A first message and follow-ups, each sent N days after the previous one if no reply came."""

    name = models.CharField(max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class SequenceStep(models.Model):
    """Step 0 goes out at launch; step n waits `delay_days` after step n-1 was sent."""

    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    template = models.ForeignKey(MessageTemplate, on_delete=models.PROTECT, related_name="+")
    delay_days = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sequence", "position"]
        constraints = [models.UniqueConstraint(fields=["sequence", "position"], name="outreach_step_unique_position")]

    def __str__(self):
        return f"{self.sequence} step {self.position}"


class MailSecurity(models.TextChoices):
    """How a mail connection is protected: TLS from the start, STARTTLS, or none (loopback only)."""

    SSL = "ssl", "TLS (implicit, e.g. 465 / 993)"
    STARTTLS = "starttls", "STARTTLS"
    NONE = "none", "None (local test servers only)"


class SenderAccount(models.Model):
    """The brand's account on a platform (or an email sender), with its limits and its breaker.

    The access token is stored encrypted (MultiFernet under ENCRYPTION_KEYS) and never shown again.
    """

    class Breaker(models.TextChoices):
        CLOSED = "closed", "Closed (sending)"
        OPEN = "open", "Open (paused)"

    class Variant(models.TextChoices):
        INSTAGRAM_LOGIN = "instagram_login", "Instagram API with Instagram Login (graph.instagram.com)"
        MESSENGER_PLATFORM = "messenger_platform", "Messenger Platform, Facebook Login (graph.facebook.com)"

    name = models.CharField(max_length=200)
    platform = models.CharField(max_length=20, choices=SenderPlatform.choices)
    variant = models.CharField(max_length=30, choices=Variant.choices, blank=True, help_text="Instagram only.")
    account_id = models.CharField(
        max_length=200, help_text="IG account id, Page id, X user id, TikTok business id, phone number id or From."
    )
    access_token_encrypted = models.TextField(blank=True, editable=False)
    api_base_url = models.CharField(
        max_length=300,
        blank=True,
        help_text="Overrides the platform's base URL (https://...); for email, smtp://[user:pass@]host:port.",
    )
    api_version = models.CharField(max_length=10, default="v25.0")
    from_name = models.CharField(
        max_length=200, blank=True, validators=[validate_one_line], help_text="Email display name."
    )
    rate_per_second = models.FloatField(null=True, blank=True)
    rate_per_15min = models.PositiveIntegerField(null=True, blank=True)
    rate_per_day = models.PositiveIntegerField(null=True, blank=True)
    daily_cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="Our own cap on API sends per rolling 24 h, below the platform's."
    )
    paused = models.BooleanField(default=False)
    breaker_state = models.CharField(max_length=10, choices=Breaker.choices, default=Breaker.CLOSED)
    breaker_reason = models.TextField(blank=True)
    breaker_opened_at = models.DateTimeField(null=True, blank=True)
    breaker_until = models.DateTimeField(null=True, blank=True, help_text="Empty while open: a person must resume.")
    consecutive_failures = models.PositiveIntegerField(default=0)
    rate_limited_until = models.DateTimeField(null=True, blank=True)
    auto_reply_template = models.ForeignKey(
        MessageTemplate,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Sent automatically to a creator who writes first, inside the window; a person follows up.",
    )
    auto_reply_every_hours = models.PositiveIntegerField(
        default=24, help_text="At most one automatic reply per conversation in this many hours."
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="sender_accounts"
    )
    # Email only: the team's own mailbox, SMTP to send and IMAP to read what comes back. Passwords
    # (or app passwords) are stored encrypted like tokens and never shown (outreach/mail/).
    smtp_host = models.CharField(max_length=253, blank=True)
    smtp_port = models.PositiveIntegerField(null=True, blank=True, help_text="Default: 465 for ssl, else 587.")
    smtp_security = models.CharField(max_length=10, choices=MailSecurity.choices, blank=True)
    smtp_username = models.CharField(max_length=254, blank=True)
    smtp_password_encrypted = models.TextField(blank=True, editable=False)
    imap_host = models.CharField(max_length=253, blank=True, help_text="Empty: replies come only by the webhook.")
    imap_port = models.PositiveIntegerField(null=True, blank=True, help_text="Default: 993 for ssl, else 143.")
    imap_security = models.CharField(max_length=10, choices=MailSecurity.choices, blank=True)
    imap_username = models.CharField(max_length=254, blank=True)
    imap_password_encrypted = models.TextField(blank=True, editable=False)
    imap_authserv_id = models.CharField(
        max_length=253, blank=True, help_text="The IMAP server's authserv-id: its Authentication-Results are trusted."
    )
    mailbox_checked_at = models.DateTimeField(null=True, blank=True, help_text="Last successful fetch.")
    mailbox_error = models.TextField(blank=True)
    mailbox_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return f"{self.name} ({self.get_platform_display()})"

    def set_smtp_password(self, password: str) -> None:
        self.smtp_password_encrypted = crypto.encrypt(password) if password else ""

    def set_imap_password(self, password: str) -> None:
        self.imap_password_encrypted = crypto.encrypt(password) if password else ""

    @property
    def smtp_password(self) -> str:
        return crypto.decrypt(self.smtp_password_encrypted) if self.smtp_password_encrypted else ""

    @property
    def imap_password(self) -> str:
        return crypto.decrypt(self.imap_password_encrypted) if self.imap_password_encrypted else ""

    @property
    def has_mailbox(self) -> bool:
        return self.platform == SenderPlatform.EMAIL and bool(self.imap_host)

    def set_access_token(self, token: str) -> None:
        self.access_token_encrypted = crypto.encrypt(token) if token else ""

    @property
    def access_token(self) -> str:
        return crypto.decrypt(self.access_token_encrypted) if self.access_token_encrypted else ""

    @property
    def base_url(self) -> str:
        if self.api_base_url:
            return self.api_base_url.rstrip("/")
        if self.platform == SenderPlatform.INSTAGRAM and self.variant == self.Variant.INSTAGRAM_LOGIN:
            return settings.INSTAGRAM_GRAPH_URL
        return {
            SenderPlatform.INSTAGRAM: settings.META_GRAPH_URL,
            SenderPlatform.MESSENGER: settings.META_GRAPH_URL,
            SenderPlatform.WHATSAPP: settings.META_GRAPH_URL,
            SenderPlatform.X: settings.X_API_URL,
            SenderPlatform.TIKTOK: settings.TIKTOK_API_URL,
        }.get(self.platform, "")

    def limits(self) -> tuple[float | None, int | None, int | None]:
        """(per second, per 15 min, per day): the account's own, else the platform's defaults."""
        per_second, per_15min, per_day = PLATFORM_RATE_DEFAULTS[self.platform]
        return (
            self.rate_per_second or per_second,
            self.rate_per_15min or per_15min,
            self.rate_per_day or per_day,
        )

    def is_sending(self, now=None) -> bool:
        now = now or timezone.now()
        if self.paused:
            return False
        return not (
            self.breaker_state == self.Breaker.OPEN and (self.breaker_until is None or self.breaker_until > now)
        )


class Conversation(models.Model):
    """A creator's thread with us on one platform; its last inbound message opens the window."""

    creator = models.ForeignKey(Creator, on_delete=models.CASCADE, related_name="conversations")
    platform = models.CharField(max_length=20, choices=SenderPlatform.choices)
    social_account = models.ForeignKey(
        SocialAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    sender_account = models.ForeignKey(
        SenderAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    platform_conversation_id = models.CharField(max_length=200, blank=True, help_text="TikTok / X conversation id.")
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    last_outbound_at = models.DateTimeField(null=True, blank=True)
    outbound_since_inbound = models.PositiveIntegerField(default=0, help_text="TikTok allows 10 per window.")
    last_auto_reply_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-last_inbound_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["creator", "platform"], name="outreach_conversation_unique_platform")
        ]

    def __str__(self):
        return f"{self.creator} on {self.get_platform_display()}"


class Launch(models.Model):
    """One launch of a campaign: the channel plan it used, who launched it and when, and its counts.

    A campaign is launched several times (a first Instagram launch, then an email launch for those not
    reached); each launch's messages point back to it, so who it reached, and who was blocked and why,
    stay visible after it. A record, never changed after the launch."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="launches")
    number = models.PositiveIntegerField(help_text="1 for the campaign's first launch, then 2, 3, ...")
    plan = models.JSONField(
        default=list, help_text="The channels in order: sender account, platform, template or sequence."
    )
    manual_fallback = models.BooleanField(default=True, help_text="Else the manual queue, when no channel goes by API.")
    again = models.BooleanField(default=False, help_text="Launched again for the members not reached yet.")
    members = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    already_queued = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, help_text="Messages by delivery mode and by channel.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "number"], name="outreach_launch_number_once")]

    def __str__(self):
        return f"Launch {self.number} of {self.campaign_id}"


class OutreachMessageQuerySet(models.QuerySet):
    def due(self, now=None):
        """Pending messages whose time has come (and whose retry wait, if any, is over), unless
        their campaign is paused or completed: pausing a campaign stops its sending."""
        now = now or timezone.now()
        return (
            self.filter(status=OutreachMessage.Status.PENDING, due_at__lte=now)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .filter(Q(campaign__isnull=True) | Q(campaign__status=Campaign.Status.ACTIVE))
        )


class OutreachMessage(models.Model):
    """One message of the outbox: rendered once, decided when due, sent at most once.

    Unique per (campaign, creator, step, reach) or (permission request, step), so launching twice or a
    task delivered twice creates one row; `reach` goes up only when a manager launches again for the
    members not reached, and at most one row per (campaign, creator, step) is ever live (not blocked,
    cancelled or failed): never two messages to one creator for one step. A worker claims a row
    (status `sending`, lease, claim token) and commits before calling the platform; a row found in
    `sending` after its lease goes to `needs_review` if the platform may have been called
    (`send_started_at`), else back to pending.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        MANUAL = "manual", "In the manual queue"
        BLOCKED = "blocked", "Blocked"
        FAILED = "failed", "Failed"
        NEEDS_REVIEW = "needs_review", "Needs review"
        CANCELLED = "cancelled", "Cancelled"

    class DeliveryMode(models.TextChoices):
        API = "api", "Through the platform's API"
        MANUAL = "manual", "Sent by a person from the app"
        BLOCKED = "blocked", "Must not go out"

    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="outreach_messages"
    )
    permission_request = models.ForeignKey(
        PermissionRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="outreach_messages"
    )
    dedupe_key = models.CharField(
        max_length=100, null=True, blank=True, unique=True, help_text="For one-off messages (inbox replies)."
    )
    creator = models.ForeignKey(Creator, on_delete=models.PROTECT, related_name="outreach_messages")
    sequence = models.ForeignKey(Sequence, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    step = models.PositiveSmallIntegerField(default=0)
    reach = models.PositiveSmallIntegerField(
        default=0, help_text="0 for the first try at this step; 1, 2 ... when launched again on another channel."
    )
    launch = models.ForeignKey(Launch, null=True, blank=True, on_delete=models.PROTECT, related_name="messages")
    template = models.ForeignKey(MessageTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sender_account = models.ForeignKey(SenderAccount, on_delete=models.PROTECT, related_name="messages")
    platform = models.CharField(max_length=20, choices=SenderPlatform.choices)
    recipient_id = models.CharField(max_length=254, blank=True, help_text="The id or address it went to.")
    rendered_subject = models.CharField(max_length=EMAIL_SUBJECT_LIMIT, blank=True)
    rendered_text = models.TextField()
    human_agent = models.BooleanField(default=False, help_text="Written by a person (Meta HUMAN_AGENT, 7 days).")
    delivery_mode = models.CharField(max_length=10, choices=DeliveryMode.choices, blank=True)
    reason = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=5)
    due_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    send_started_at = models.DateTimeField(
        null=True, blank=True, help_text="Set just before the platform is called: a row with it may have gone out."
    )
    provider_message_id = models.CharField(max_length=255, blank=True, db_index=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OutreachMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "creator", "step", "reach"],
                condition=Q(campaign__isnull=False, permission_request__isnull=True),
                name="outreach_message_once_per_campaign_step",
            ),
            models.UniqueConstraint(
                fields=["campaign", "creator", "step"],
                condition=Q(campaign__isnull=False, permission_request__isnull=True)
                & ~Q(status__in=["blocked", "cancelled", "failed"]),
                name="outreach_message_one_live_per_campaign_step",
                violation_error_message="This creator already has a message for this step of the campaign.",
            ),
            models.UniqueConstraint(
                fields=["permission_request", "step"],
                condition=Q(permission_request__isnull=False),
                name="outreach_message_once_per_request_step",
            ),
            models.CheckConstraint(
                condition=Q(campaign__isnull=False) | Q(permission_request__isnull=False) | Q(dedupe_key__isnull=False),
                name="outreach_message_has_a_key",
                violation_error_message="A message belongs to a campaign, a permission request, or has a dedupe key.",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="outreach_due_idx"),
            models.Index(fields=["sender_account", "status", "claimed_at"], name="outreach_sender_claims_idx"),
            models.Index(fields=["creator", "sent_at"], name="outreach_creator_sent_idx"),
        ]

    def __str__(self):
        return f"{self.get_platform_display()} to {self.creator_id}: {self.get_status_display()}"


class InboundEvent(models.Model):
    """A verified webhook delivery, stored raw before anything else happens, once per provider id.

    The receiver stores and answers at once; a task processes it. The unique (provider, event id)
    makes a re-delivery, even a simultaneous one, a no-op.
    """

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=255)
    body = models.BinaryField()
    headers = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="outreach_inbound_once")]
        indexes = [  # the few still waiting, for the sweep that queues lost tasks again
            models.Index(fields=["received_at"], name="outreach_inbound_waiting", condition=Q(status="received"))
        ]

    def __str__(self):
        return f"{self.provider} {self.event_id}"


class ConversationMessage(models.Model):
    """One message in a conversation, in or out, with how a reply was classified and by whom."""

    class Direction(models.TextChoices):
        IN = "in", "From the creator"
        OUT = "out", "From us"

    class Classification(models.TextChoices):
        UNCLASSIFIED = "", "Not classified"
        GRANTED = "granted", "Rights granted"
        DECLINED = "declined", "Declined"
        REVOKED = "revoked", "Rights withdrawn"
        OPTED_OUT = "opted_out", "Opted out"
        OPTED_IN = "opted_in", "Opted back in"
        REPLY = "reply", "Just a reply"
        NEEDS_REVIEW = "needs_review", "Needs review"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    platform = models.CharField(max_length=20, choices=SenderPlatform.choices)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    platform_message_id = models.CharField(max_length=255, null=True, blank=True)
    text = models.TextField(blank=True)
    at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    outreach_message = models.ForeignKey(
        OutreachMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    inbound_event = models.ForeignKey(
        "InboundEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    classification = models.CharField(max_length=20, choices=Classification.choices, blank=True, db_index=True)
    classification_rule = models.CharField(max_length=200, blank=True)
    classified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the platform sent, read as it means it (outreach/webhooks/kinds.py).
    kind = models.CharField(max_length=20, default="message", help_text="message, postback, story_mention, ...")
    attachments = models.JSONField(default=list, blank=True, help_text="[{type, url, ...}]: URLs kept, never media.")
    payload = models.CharField(max_length=1000, blank=True, help_text="The tapped button's or quick reply's payload.")
    reply_to = models.JSONField(null=True, blank=True, help_text="The message (id) or story ({story_id, story_url}).")
    referral = models.JSONField(null=True, blank=True, help_text="The ad or link that opened the conversation.")
    reactions = models.JSONField(default=dict, blank=True, help_text="{who: {emoji, reaction, at}}; not replies.")
    version = models.PositiveIntegerField(default=0, help_text="0 as first sent; each edit adds one.")
    classified_version = models.PositiveIntegerField(default=0, help_text="The version the decision was made on.")
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True, help_text="Unsent or deleted by its author.")
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivery_status = models.CharField(max_length=20, blank=True, help_text="sent, delivered, read, failed.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "platform_message_id"],
                condition=Q(platform_message_id__isnull=False),
                name="outreach_conversation_message_once",
            )
        ]
        # A conversation's latest message (the inbox's order, the thread's last 200).
        indexes = [models.Index(fields=["conversation", "-at", "-id"], name="outreach_conv_latest_idx")]

    def __str__(self):
        return f"{self.get_direction_display()} on {self.platform}: {self.text[:40]}"


class ConversationMessageVersion(models.Model):
    """Every text a message has had: an edit never overwrites what a decision was made on. Version 0
    is the message as first received; the evidence of a decision is the version it was made on."""

    message = models.ForeignKey(ConversationMessage, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    text = models.TextField(blank=True)
    attachments = models.JSONField(default=list, blank=True)
    at = models.DateTimeField(help_text="When the platform says this version was written.")
    inbound_event = models.ForeignKey(
        "InboundEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["message", "number"]
        constraints = [models.UniqueConstraint(fields=["message", "number"], name="outreach_message_version_once")]

    def __str__(self):
        return f"version {self.number} of message {self.message_id}"


class FollowUpTask(models.Model):
    """Work for a person: every automatic reply creates one, so no creator is left with only a bot."""

    creator = models.ForeignKey(Creator, on_delete=models.CASCADE, related_name="follow_up_tasks")
    conversation = models.ForeignKey(Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_up_tasks"
    )
    reason = models.CharField(max_length=300)
    due_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["done_at", "due_at", "id"]

    def __str__(self):
        return f"{self.reason} ({self.creator})"


# --- Comments, mentions, UGC discovery and private replies (PLATFORMS-UGC.md) ---------------------


class BrandPost(models.Model):
    """One of the brand's own posts (or Lives): the thread its comments hang on.

    A Live's comments may get a private reply only while it is live, so its end is recorded."""

    platform = models.CharField(max_length=20, choices=SenderPlatform.choices)
    sender_account = models.ForeignKey(
        SenderAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="brand_posts"
    )
    media_id = models.CharField(max_length=100)
    media_product_type = models.CharField(max_length=20, blank=True, help_text="FEED, REELS, STORY, AD, LIVE.")
    live = models.BooleanField(default=False)
    live_ended_at = models.DateTimeField(null=True, blank=True)
    permalink = models.URLField(max_length=500, blank=True)
    caption = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["platform", "media_id"], name="outreach_brand_post_once")]

    def __str__(self):
        return f"{self.platform} post {self.media_id}"


class Comment(models.Model):
    """A comment on the brand's media, or one that mentions the brand, stored once per comment id.

    Meta keeps no webhook data, so this row is the record. `private_reply` (one per comment, 7 days)
    hangs off it; `live` comments are kept apart from the others."""

    class Source(models.TextChoices):
        OWN_MEDIA = "own_media", "On our post"
        MENTION = "mention", "Mentions us"

    platform = models.CharField(max_length=20, choices=SenderPlatform.choices)
    comment_id = models.CharField(max_length=100)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.OWN_MEDIA)
    post = models.ForeignKey(BrandPost, null=True, blank=True, on_delete=models.CASCADE, related_name="comments")
    sender_account = models.ForeignKey(
        SenderAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="comments"
    )
    media_id = models.CharField(max_length=100, blank=True)
    parent_id = models.CharField(max_length=100, blank=True, help_text="Set when it is a reply to a comment.")
    from_id = models.CharField(max_length=100, blank=True)
    from_username = models.CharField(max_length=100, blank=True)
    creator = models.ForeignKey(Creator, null=True, blank=True, on_delete=models.SET_NULL, related_name="comments")
    text = models.TextField(blank=True)
    created_time = models.DateTimeField(help_text="When the comment was made: the 7-day private-reply clock.")
    live = models.BooleanField(default=False)
    hidden = models.BooleanField(default=False)
    removed = models.BooleanField(default=False)
    ours = models.BooleanField(default=False, help_text="Written by the brand (a public reply or request).")
    public_reply_id = models.CharField(max_length=100, blank=True, help_text="Our public reply's comment id.")
    reply_used_at = models.DateTimeField(
        null=True, blank=True, help_text="The private reply was used (sent, or refused by the platform)."
    )
    inbound_event = models.ForeignKey(
        InboundEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="comments"
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_time", "-id"]
        constraints = [models.UniqueConstraint(fields=["platform", "comment_id"], name="outreach_comment_once")]
        indexes = [models.Index(fields=["post", "created_time"], name="outreach_comment_post_idx")]

    def __str__(self):
        return f"@{self.from_username or self.from_id}: {self.text[:40]}"


class KeywordRule(models.Model):
    """Lead generation: a comment containing the keyword gets one automatic private reply (per
    commenter and rule), on one post or any of the account's posts; a person always follows up."""

    sender_account = models.ForeignKey(SenderAccount, on_delete=models.CASCADE, related_name="keyword_rules")
    post = models.ForeignKey(
        BrandPost, null=True, blank=True, on_delete=models.CASCADE, related_name="keyword_rules",
        help_text="Empty: every post of the account.",
    )  # fmt: skip
    keyword = models.CharField(max_length=100)
    template = models.ForeignKey(MessageTemplate, on_delete=models.PROTECT, related_name="+")
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["keyword", "id"]

    def __str__(self):
        return f"{self.keyword} -> {self.template}"


class PrivateReply(models.Model):
    """The one DM a comment may get (Meta: one per comment, within 7 days of it, a Live only while
    live). The unique comment is the claim: the row exists before the platform is called, so a
    second reply is refused without calling it; the send itself is claimed like the outbox's."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Refused by the platform"
        NEEDS_REVIEW = "needs_review", "Needs review (no answer came)"

    comment = models.OneToOneField(Comment, on_delete=models.CASCADE, related_name="private_reply")
    sender_account = models.ForeignKey(SenderAccount, on_delete=models.PROTECT, related_name="private_replies")
    creator = models.ForeignKey(
        Creator, null=True, blank=True, on_delete=models.SET_NULL, related_name="private_replies"
    )
    text = models.TextField()
    automatic = models.BooleanField(default=False)
    keyword_rule = models.ForeignKey(
        KeywordRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="private_replies"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    claim_token = models.CharField(max_length=32, blank=True)
    send_started_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["keyword_rule", "creator"],
                condition=Q(keyword_rule__isnull=False, creator__isnull=False),
                name="outreach_keyword_reply_once_per_commenter",
            )
        ]
        indexes = [models.Index(fields=["sender_account", "created_at"], name="outreach_private_rate_idx")]

    def __str__(self):
        return f"Private reply to comment {self.comment_id}: {self.get_status_display()}"


class DiscoveredMedia(models.Model):
    """UGC found where creators post it: a caption or comment mention, a tag, a hashtag search.

    What the platform lets us do with it depends on how it was found (only mentions may be commented
    on through the API); `content` is the crm post once its creator is known."""

    class Source(models.TextChoices):
        CAPTION_MENTION = "caption_mention", "Mentioned us in the caption"
        COMMENT_MENTION = "comment_mention", "Mentioned us in a comment"
        TAGGED = "tagged", "Tagged us"
        HASHTAG = "hashtag", "Hashtag search"
        LINK = "link", "Added by hand from a link"

    platform = models.CharField(max_length=20, choices=SenderPlatform.choices, default=SenderPlatform.INSTAGRAM)
    sender_account = models.ForeignKey(SenderAccount, on_delete=models.CASCADE, related_name="discovered_media")
    media_id = models.CharField(max_length=100)
    source = models.CharField(max_length=20, choices=Source.choices)
    mention_comment_id = models.CharField(max_length=100, blank=True)
    hashtag = models.CharField(max_length=100, blank=True)
    username = models.CharField(max_length=100, blank=True, help_text="The post's author (not given for hashtags).")
    permalink = models.URLField(max_length=500, blank=True)
    caption = models.TextField(blank=True)
    media_type = models.CharField(max_length=30, blank=True)
    media_url = models.URLField(max_length=1000, blank=True)
    thumbnail_url = models.URLField(max_length=1000, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)
    fetch_error = models.TextField(blank=True)
    creator = models.ForeignKey(Creator, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    content = models.ForeignKey(
        "crm.Content", null=True, blank=True, on_delete=models.SET_NULL, related_name="discoveries"
    )
    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    discovered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-discovered_at", "-id"]
        verbose_name_plural = "discovered media"
        constraints = [
            models.UniqueConstraint(
                fields=["sender_account", "media_id", "source"], name="outreach_discovered_once_per_source"
            )
        ]

    def __str__(self):
        return f"{self.get_source_display()}: {self.permalink or self.media_id}"

    @property
    def may_comment_by_api(self) -> bool:
        return self.source in {self.Source.CAPTION_MENTION, self.Source.COMMENT_MENTION}


class CommentRightsRequest(models.Model):
    """A permission request asked in a public comment: through the API on a post that mentions us
    (`/mentions`), or under the author's own comment on one of our posts (`/replies`); by a person for
    tags and hashtag finds otherwise (the API forbids commenting there).

    A small outbox of its own with the worker's claim-then-act: claimed (status `sending`, a token)
    and committed before the platform is called, so a request comment goes out at most once."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Posted: waiting for the author"
        MANUAL = "manual", "For a person to post"
        AUTHOR_REPLIED = "author_replied", "The author replied without the hashtag"
        ANSWERED = "answered", "Answered (granted or declined)"
        FAILED = "failed", "Failed"
        NEEDS_REVIEW = "needs_review", "Needs review (no answer came)"

    class Method(models.TextChoices):
        MENTION_REPLY = "mention_reply", "Comment through /mentions"
        COMMENT_REPLY = "comment_reply", "Reply through /replies"
        MANUAL = "manual", "Posted by a person"

    permission_request = models.OneToOneField(
        PermissionRequest, on_delete=models.PROTECT, related_name="comment_request"
    )
    discovered = models.ForeignKey(DiscoveredMedia, on_delete=models.PROTECT, related_name="rights_requests")
    via_comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.SET_NULL, related_name="rights_requests",
        help_text="The author's comment on our post that the request answers (a reply through /replies).",
    )  # fmt: skip
    sender_account = models.ForeignKey(SenderAccount, on_delete=models.PROTECT, related_name="comment_requests")
    method = models.CharField(max_length=20, choices=Method.choices)
    author_username = models.CharField(max_length=100, help_text="Only this account's reply may grant.")
    text = models.TextField()
    variant = models.PositiveSmallIntegerField(default=0, help_text="Which wording (rotated).")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    due_at = models.DateTimeField(default=timezone.now)
    claim_token = models.CharField(max_length=32, blank=True)
    send_started_at = models.DateTimeField(null=True, blank=True)
    provider_comment_id = models.CharField(max_length=100, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "due_at"], name="outreach_comment_req_due")]

    def __str__(self):
        return f"Comment request for {self.discovered}: {self.get_status_display()}"


class HashtagSearch(models.Model):
    """A hashtag this account has queried: Instagram allows 30 unique ones per rolling 7 days, each
    counting from its first query (re-querying is free and does not restart the clock)."""

    sender_account = models.ForeignKey(SenderAccount, on_delete=models.CASCADE, related_name="hashtag_searches")
    hashtag = models.CharField(max_length=100)
    hashtag_id = models.CharField(max_length=100, blank=True)
    first_queried_at = models.DateTimeField()
    last_polled_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["hashtag", "id"]
        constraints = [
            models.UniqueConstraint(fields=["sender_account", "hashtag"], name="outreach_hashtag_search_once")
        ]

    def __str__(self):
        return f"#{self.hashtag}"


class MailboxFolder(models.Model):
    """Where reading a mailbox folder got to: its UIDVALIDITY and the last UID read, so a restart
    neither reads a message twice nor misses one, and a new UIDVALIDITY is noticed (outreach/mail/)."""

    sender_account = models.ForeignKey(SenderAccount, on_delete=models.CASCADE, related_name="mailbox_folders")
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=10, help_text="inbox or sent")
    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sender_account", "role", "name"]
        constraints = [models.UniqueConstraint(fields=["sender_account", "name"], name="outreach_mailbox_folder_once")]

    def __str__(self):
        return f"{self.sender_account_id}:{self.name} ({self.uidvalidity}/{self.last_uid})"


class EmailSuppression(models.Model):
    """An address that hard-bounced: nothing more is sent to it until a person removes the row."""

    address = models.EmailField(max_length=254, unique=True)
    reason = models.TextField()
    outreach_message = models.ForeignKey(
        OutreachMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.address
