"""The CRM's domain: who the creators are, what we run with them, and what they agreed to.

Rules that change data live in `crm/services.py`; models hold structure, constraints and the
queries the rest of the code reuses.
"""

import datetime
import hashlib
import json
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone

from core.headersafe import validate_one_line
from crm import handles


class Platform(models.TextChoices):
    INSTAGRAM = handles.INSTAGRAM, "Instagram"
    TIKTOK = handles.TIKTOK, "TikTok"
    X = handles.X, "X"
    YOUTUBE = handles.YOUTUBE, "YouTube"
    FACEBOOK = handles.FACEBOOK, "Facebook"
    LINKEDIN = handles.LINKEDIN, "LinkedIn"
    WHATSAPP = handles.WHATSAPP, "WhatsApp"


class Tag(models.Model):
    """A label managers group creators by (niche, tier, region); unique whatever the case."""

    name = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="crm_tag_unique_name_ci")]

    def __str__(self):
        return self.name

    def clean(self):
        self.name = " ".join((self.name or "").split())
        if not self.name:
            raise ValidationError({"name": "A tag needs a name."})


class CreatorQuerySet(models.QuerySet):
    def contactable(self):
        """Creators we may message at all: not opted out, not do-not-contact, not erased."""
        return self.filter(opted_out_at__isnull=True, erased_at__isnull=True).exclude(
            status=Creator.Status.DO_NOT_CONTACT
        )


class Creator(models.Model):
    """A person the brand works with, across all their accounts on every platform.

    `opted_out_at` and `contact_allowed_at` are derived from the consent ledger by the services
    and kept here so lists and the delivery policy can filter on them in one query.
    """

    class Status(models.TextChoices):
        PROSPECT = "prospect", "Prospect"
        ACTIVE = "active", "Active"
        PARTNER = "partner", "Partner"
        DO_NOT_CONTACT = "do_not_contact", "Do not contact"

    name = models.CharField(max_length=200, validators=[validate_one_line])  # reaches mail headers
    email = models.EmailField(max_length=254, blank=True, db_index=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2 code, e.g. GB.")
    language = models.CharField(max_length=16, blank=True, help_text="Language tag, e.g. en or pt-BR.")
    tags = models.ManyToManyField(Tag, blank=True, related_name="creators")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_creators",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROSPECT, db_index=True)
    notes = models.TextField(blank=True)
    opted_out_at = models.DateTimeField(null=True, blank=True, editable=False)
    contact_allowed_at = models.DateTimeField(null=True, blank=True, editable=False)
    erased_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Personal data erased on request (GDPR Art. 17)."
    )
    erased_handle_hashes = models.JSONField(
        default=list, blank=True, editable=False, help_text="SHA-256 of 'platform:handle' of each erased account."
    )
    ledger_head = models.CharField(
        max_length=64, blank=True, editable=False, help_text="Hash of the newest consent event: anchors the chain."
    )
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
        editable=False,
        help_text="This record was merged into that creator; its ledger entries stay here and are read from there.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CreatorQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["created_at"]),
            models.Index(fields=["country"]),
            models.Index(fields=["name", "id"], name="crm_creator_by_name_idx"),  # the creators list's order
        ]

    def __str__(self):
        return self.name

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.split() else ""

    @property
    def is_contactable(self) -> bool:
        return self.opted_out_at is None and self.erased_at is None and self.status != self.Status.DO_NOT_CONTACT

    def tidy(self):
        """One spelling for names, emails and country codes, whoever typed them."""
        self.name = " ".join((self.name or "").split())
        self.email = (self.email or "").strip().lower()
        self.country = (self.country or "").strip().upper()

    def clean_fields(self, exclude=None):
        self.tidy()
        super().clean_fields(exclude=exclude)

    def save(self, *args, **kwargs):
        self.tidy()
        super().save(*args, **kwargs)

    def clean(self):
        if self.country and not re.fullmatch(r"[A-Z]{2}", self.country):
            raise ValidationError({"country": "Use a two-letter ISO 3166 code, e.g. GB or US."})


class SocialAccount(models.Model):
    """A creator's account on one platform; the handle is stored in one normalised form."""

    creator = models.ForeignKey(Creator, on_delete=models.CASCADE, related_name="accounts")
    platform = models.CharField(max_length=20, choices=Platform.choices)
    handle = models.CharField(max_length=100)
    platform_user_id = models.CharField(
        max_length=64,
        null=True,
        blank=True,
        help_text="The platform's id for this person (IGSID, PSID, X user id, WhatsApp number).",
    )
    follower_count = models.PositiveBigIntegerField(null=True, blank=True)
    profile_url = models.URLField(max_length=500, blank=True)
    accepts_dms = models.BooleanField(
        null=True, blank=True, help_text="X: whether the creator accepts DMs from us (unknown when empty)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["platform", "handle"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "handle"], name="crm_account_unique_handle"),
            models.UniqueConstraint(
                fields=["platform", "platform_user_id"],
                condition=models.Q(platform_user_id__isnull=False),
                name="crm_account_unique_platform_user_id",
            ),
        ]
        indexes = [
            # The creators list by followers (web/top_followers.py): the walk from the largest count down,
            # and each creator's largest account.
            models.Index(
                F("follower_count").desc(),
                F("creator").desc(),
                condition=models.Q(follower_count__isnull=False),
                name="crm_account_followers_walk",
            ),
            models.Index(F("creator"), F("follower_count").desc(), name="crm_account_creator_top"),
            # What the delivery policy and a launch read of a batch of creators' accounts on a platform
            # (outreach.policy.Known.gather), from the index alone on PostgreSQL.
            models.Index(
                fields=["creator", "platform"],
                include=["id", "handle", "platform_user_id", "accepts_dms"],
                name="crm_account_creator_platform",
            ),
        ]

    def __str__(self):
        return f"{self.get_platform_display()} @{self.handle}"

    def normalize(self):
        """Store the handle in its canonical form; raises InvalidHandle with the reason."""
        self.handle = handles.normalize_handle(self.platform, self.handle)
        if not self.platform_user_id:
            self.platform_user_id = None
        if not self.profile_url:
            self.profile_url = handles.profile_url(self.platform, self.handle)

    def clean(self):
        try:
            self.normalize()
        except handles.InvalidHandle as error:
            raise ValidationError({"handle": str(error)}) from None

    def save(self, *args, **kwargs):
        self.normalize()
        super().save(*args, **kwargs)


HASHTAG_PATTERN = re.compile(r"#\w{2,63}")


def normalize_hashtag(value: str) -> str:
    """`yesacme`, `#YesAcme ` -> `#YesAcme`; the case is kept for display, matching ignores it."""
    tag = (value or "").strip()
    if not tag:
        return ""
    if not tag.startswith("#"):
        tag = "#" + tag
    if not HASHTAG_PATTERN.fullmatch(tag):
        raise ValidationError("An approval hashtag is # followed by 2-63 letters, digits or underscores.")
    return tag


class Campaign(models.Model):
    """A brand's push with a set of creators, and the hashtag creators answer to grant rights."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"

    name = models.CharField(max_length=200)
    brand = models.CharField(max_length=200)
    goal = models.TextField(blank=True)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_campaigns"
    )
    team = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="campaigns", help_text="Teammates who work on it."
    )
    approval_hashtag = models.CharField(
        max_length=64, blank=True, help_text="What a creator replies to grant rights, e.g. #YesAcme."
    )
    terms_url = models.URLField(max_length=500, blank=True)
    terms_version = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(starts_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="crm_campaign_ends_after_start",
                violation_error_message="A campaign cannot end before it starts.",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.brand})"

    def clean(self):
        try:
            self.approval_hashtag = normalize_hashtag(self.approval_hashtag)
        except ValidationError as error:
            raise ValidationError({"approval_hashtag": error.messages}) from None
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "A campaign cannot end before it starts."})


class CampaignMember(models.Model):
    """A creator taking part in a campaign, and how far along they are."""

    class Stage(models.TextChoices):
        PROSPECT = "prospect", "Prospect"
        CONTACTED = "contacted", "Contacted"
        REPLIED = "replied", "Replied"
        NEGOTIATING = "negotiating", "Negotiating"
        CONFIRMED = "confirmed", "Confirmed"
        CONTENT_LIVE = "content_live", "Content live"
        DECLINED = "declined", "Declined"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="members")
    creator = models.ForeignKey(Creator, on_delete=models.CASCADE, related_name="memberships")
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.PROSPECT, db_index=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_members"
    )
    stage_changed_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["campaign", "creator__name"]
        constraints = [models.UniqueConstraint(fields=["campaign", "creator"], name="crm_member_unique")]
        # The board: each stage's latest moves first (web/views/campaigns.py).
        indexes = [models.Index(fields=["campaign", "stage", "-stage_changed_at", "-id"], name="crm_member_board_idx")]

    def __str__(self):
        return f"{self.creator} in {self.campaign.name}"


class Content(models.Model):
    """A post by a creator that the brand may want to reuse (UGC)."""

    creator = models.ForeignKey(Creator, on_delete=models.CASCADE, related_name="content")
    social_account = models.ForeignKey(
        SocialAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="content"
    )
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="content")
    platform = models.CharField(max_length=20, choices=Platform.choices)
    url = models.URLField(max_length=500, unique=True, help_text="Stored normalised: no tracking parameters.")
    platform_post_id = models.CharField(max_length=100, blank=True)
    caption = models.TextField(blank=True)
    media_url = models.URLField(max_length=1000, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-posted_at", "-id"]
        verbose_name_plural = "content"
        indexes = [models.Index(fields=["-created_at", "-id"], name="crm_content_newest_idx")]  # the content list

    def __str__(self):
        return self.url

    def clean(self):
        try:
            self.url = handles.normalize_content_url(self.url)
        except ValueError as error:
            raise ValidationError({"url": str(error)}) from None

    def save(self, *args, **kwargs):
        self.url = handles.normalize_content_url(self.url)
        super().save(*args, **kwargs)


class UsageChannel(models.TextChoices):
    ORGANIC_SOCIAL = "organic_social", "Organic social"
    PAID_ADS = "paid_ads", "Paid ads"
    WEBSITE = "website", "Website"
    EMAIL = "email", "Email"
    PRINT = "print", "Print"


class PermissionRequest(models.Model):
    """A request to reuse one post under stated terms; its status is derived from the ledger.

    The terms are frozen when the request is created: the text's SHA-256 is what a grant refers to,
    so a later edit of the terms page cannot change what the creator agreed to.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        REQUESTED = "requested", "Requested"
        GRANTED = "granted", "Granted"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"

    content = models.ForeignKey(Content, on_delete=models.PROTECT, related_name="permission_requests")
    creator = models.ForeignKey(Creator, on_delete=models.PROTECT, related_name="permission_requests")
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="permission_requests"
    )
    channels = models.JSONField(default=list, help_text="Where the post may be used: " + ", ".join(UsageChannel.values))
    territory = models.CharField(max_length=200, default="worldwide")
    exclusive = models.BooleanField(default=False)
    duration_days = models.PositiveIntegerField(null=True, blank=True, help_text="Empty means no end date.")
    terms_url = models.URLField(max_length=500)
    terms_version = models.CharField(max_length=32, blank=True)
    terms_text = models.TextField()
    terms_sha256 = models.CharField(max_length=64, editable=False)
    approval_hashtag = models.CharField(max_length=64)
    request_text = models.TextField(blank=True, editable=False, help_text="The message that asked, as sent.")
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.DRAFT, editable=False, db_index=True
    )
    requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    rights_expire_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "rights_expire_at"]),
            # The rights list (latest change first) and a campaign page's latest requests.
            models.Index(fields=["-updated_at", "-id"], name="crm_request_changed_idx"),
            models.Index(fields=["campaign", "-created_at", "-id"], name="crm_request_campaign_idx"),
        ]

    def __str__(self):
        return f"Rights to {self.content} ({self.get_status_display()})"

    @staticmethod
    def hash_terms(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @property
    def scope(self) -> dict:
        return {
            "channels": list(self.channels),
            "territory": self.territory,
            "exclusive": self.exclusive,
            "duration_days": self.duration_days,
        }


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove an entry of the consent ledger."""


class ConsentEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("The consent ledger is append-only: entries cannot be updated.")

    def delete(self):
        raise AppendOnlyError("The consent ledger is append-only: entries cannot be deleted.")

    _raw_delete = delete


class ConsentEvent(models.Model):
    """One consent decision with its evidence; never changed, never removed.

    The database refuses UPDATE and DELETE with a trigger (migration 0002). Entries of one creator
    form a hash chain (`previous_hash` -> `entry_hash`, unique per creator), so a removed or
    altered entry is detectable even by someone who bypassed the trigger.
    """

    class Kind(models.TextChoices):
        RIGHTS_GRANTED = "rights_granted", "Rights granted"
        RIGHTS_DECLINED = "rights_declined", "Rights declined"
        RIGHTS_REVOKED = "rights_revoked", "Rights revoked"
        RIGHTS_EXPIRED = "rights_expired", "Rights expired"
        OPTED_OUT = "opted_out", "Opted out"
        OPTED_IN = "opted_in", "Opted in"
        CONTACT_ALLOWED = "contact_allowed", "Contact allowed"
        RECORDED_IN_ERROR = "recorded_in_error", "Recorded in error (a correction)"

    kind = models.CharField(max_length=20, choices=Kind.choices, db_index=True)
    creator = models.ForeignKey(Creator, on_delete=models.PROTECT, related_name="consent_events")
    permission_request = models.ForeignKey(
        PermissionRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="consent_events"
    )
    occurred_at = models.DateTimeField(help_text="When the creator said it (the message's time).")
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by_label = models.CharField(max_length=150, help_text="The user's name then, or 'system'.")
    rule = models.CharField(max_length=200, blank=True, help_text="The rule that matched, or who decided.")
    channel = models.CharField(max_length=32, blank=True, help_text="Where it was said: a platform, email, phone.")
    inbound_message_id = models.CharField(max_length=255, blank=True)
    inbound_text_sha256 = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 of the creator's exact words (kept in EvidenceText)."
    )
    outbound_text_sha256 = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 of what we had asked, exactly (kept in EvidenceText)."
    )
    terms_sha256 = models.CharField(max_length=64, blank=True)
    scope = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)
    voids = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="voided_by",
        help_text="For a correction: the entry it says was recorded in error (that entry stays as it was).",
    )
    previous_hash = models.CharField(max_length=64, blank=True)
    entry_hash = models.CharField(max_length=64, unique=True)

    objects = ConsentEventQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["creator", "previous_hash"], name="crm_consent_linear_chain"),
            models.UniqueConstraint(
                fields=["voids"], condition=models.Q(voids__isnull=False), name="crm_consent_voided_once"
            ),
        ]
        indexes = [models.Index(fields=["permission_request", "recorded_at"])]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.creator_id} at {self.occurred_at:%Y-%m-%d %H:%M}"

    def compute_hash(self) -> str:
        """SHA-256 over every recorded field and the previous entry's hash."""
        payload = {
            "kind": self.kind,
            "creator": self.creator_id,
            "permission_request": self.permission_request_id,
            "occurred_at": self.occurred_at.astimezone(datetime.UTC).isoformat(),
            "recorded_at": self.recorded_at.astimezone(datetime.UTC).isoformat(),
            "recorded_by": self.recorded_by_id,
            "recorded_by_label": self.recorded_by_label,
            "rule": self.rule,
            "channel": self.channel,
            "inbound_message_id": self.inbound_message_id,
            "inbound_text_sha256": self.inbound_text_sha256,
            "outbound_text_sha256": self.outbound_text_sha256,
            "terms_sha256": self.terms_sha256,
            "scope": self.scope,
            "note": self.note,
            "previous_hash": self.previous_hash,
        }
        if self.voids_id:  # only corrections carry it, so entries written before it existed hash the same
            payload["voids"] = self.voids_id
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("The consent ledger is append-only: entries cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The consent ledger is append-only: entries cannot be deleted.")

    def _text(self, digest: str) -> str | None:
        if not digest:
            return ""
        found = EvidenceText.objects.filter(creator_id=self.creator_id, sha256=digest).values_list("text", flat=True)
        return found.first()  # None once erased

    @property
    def inbound_text(self) -> str | None:
        """The creator's exact words; None when erased on the creator's request (the hash remains)."""
        return self._text(self.inbound_text_sha256)

    @property
    def outbound_text(self) -> str | None:
        return self._text(self.outbound_text_sha256)


class EvidenceText(models.Model):
    """Message bodies that prove consent, kept apart from the ledger so they can be erased.

    The ledger keeps each text's SHA-256 (inside its hash chain): while the text exists it is
    provably the one recorded; after a GDPR erasure the text is gone and the proof of the decision
    (kind, time, scope, message id, hash) stays.
    """

    creator = models.ForeignKey(Creator, on_delete=models.CASCADE, related_name="evidence_texts")
    sha256 = models.CharField(max_length=64)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["creator", "sha256"], name="crm_evidence_text_unique")]

    def __str__(self):
        return f"{self.sha256[:12]}... ({len(self.text)} characters)"

    @staticmethod
    def digest(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Role(models.TextChoices):
    ADMIN = "admin", "Admin: everything"
    MANAGER = "manager", "Manager: works on their campaigns"
    VIEWER = "viewer", "Viewer: reads only"


class AccessRole(models.Model):
    """What a person (or an integration's user) may do; superusers are admins whatever this says."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_role")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MANAGER)

    def __str__(self):
        return f"{self.user} ({self.role})"


def role_of(user) -> str:
    if not user or not user.is_authenticated:
        return ""
    if user.is_superuser:
        return Role.ADMIN
    access = getattr(user, "access_role", None)
    return access.role if access else Role.MANAGER


class ApiTokenQuerySet(models.QuerySet):
    def usable(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    """A key other tools send as `Authorization: Token <key>`; only its SHA-256 is stored, so the
    key is shown once, at creation, and a database leak does not leak working keys."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, db_index=True, help_text="The key's first characters, to recognise it.")
    key_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def digest(key: str) -> str:
        return hashlib.sha256(key.encode("utf-8")).hexdigest()


class ColumnMapping(models.Model):
    """How the columns of a spreadsheet someone imports match our fields, kept under a name so the
    next file with the same headers (a monthly export, a fixed rejected-rows file) is matched the
    same way without asking again. A person's own, or the whole team's when `for_team` is set."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="column_mappings")
    name = models.CharField(max_length=100)
    for_team = models.BooleanField(default=False, help_text="Offered to everyone on the team, not only its owner.")
    signature = models.CharField(
        max_length=64, db_index=True, help_text="SHA-256 of the file's headers, normalised and sorted."
    )
    columns = models.JSONField(default=list, help_text="[header, field] pairs; an empty field ignores the column.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="column_mapping_name_per_owner")]

    def __str__(self):
        return self.name


class ImportSeenCreator(models.Model):
    """The creators one running import has already written, with the first line that named them: a
    later row about the same person anywhere in the file is reported as repeating that line and
    counted once, while the importer's memory stays flat (the table holds the file's keys, not
    Python). Rows are deleted when the import ends."""

    run = models.UUIDField()
    creator_id = models.BigIntegerField()
    line = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "creator_id"], name="import_seen_creator_once")]

    def __str__(self):
        return f"{self.run}: creator {self.creator_id} at line {self.line}"
