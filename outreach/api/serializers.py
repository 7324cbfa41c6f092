"""What outreach looks like to other tools. Tokens are write-only and never returned, not even
encrypted; statuses, attempts and provider ids change only through the services and the worker."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from crm.api.serializers import VisibleContentField, WorkableCampaignField
from crm.models import Creator, UsageChannel
from crm.services.rights import MAX_DURATION_DAYS
from outreach.models import (
    Conversation,
    ConversationMessage,
    FollowUpTask,
    Launch,
    MessageTemplate,
    OutreachMessage,
    SenderAccount,
    SenderPlatform,
    Sequence,
    SequenceStep,
)

# Bounds on every input (SECURITY.md): no list or text a client sends is unbounded.
MAX_TEMPLATE = 100_000  # a template's body (an email can be long; DMs have their own platform limits)
MAX_TERMS = 100_000  # the terms a creator agrees to
MAX_WORDS = 20_000  # a creator's words, a note
MAX_STEPS = 50  # steps in a sequence
MAX_IDS = 10_000  # ids in one bulk request
MAX_CHOICES = 50  # a list of choices (duplicates included)


class TemplateSerializer(serializers.ModelSerializer):
    """Saved only when every variable is known and the text fits each platform's limit."""

    class Meta:
        model = MessageTemplate
        fields = ["id", "name", "platforms", "subject", "body", "variables", "whatsapp_template_name",
                  "whatsapp_template_language", "created_by", "created_at", "updated_at", "archived_at"]  # fmt: skip
        read_only_fields = ["id", "variables", "created_by", "created_at", "updated_at", "archived_at"]
        extra_kwargs = {"body": {"max_length": MAX_TEMPLATE}}

    platforms = serializers.ListField(
        child=serializers.ChoiceField(choices=SenderPlatform.choices),
        required=False,
        max_length=len(SenderPlatform.choices),
        help_text="Platforms it is written for; empty means any. Length limits are checked for each.",
    )

    def validate(self, attrs):
        template = MessageTemplate(**{**self._current(), **attrs})
        try:
            template.clean()
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from None
        return attrs

    def _current(self) -> dict:
        if self.instance is None:
            return {}
        return {name: getattr(self.instance, name) for name in ("name", "platforms", "subject", "body")}


class PreviewRequestSerializer(serializers.Serializer):
    creator = serializers.PrimaryKeyRelatedField(queryset=Creator.objects.filter(erased_at__isnull=True))
    platform = serializers.ChoiceField(choices=SenderPlatform.choices)
    campaign = WorkableCampaignField(required=False, allow_null=True)


class PreviewSerializer(serializers.Serializer):
    subject = serializers.CharField()
    text = serializers.CharField()
    length = serializers.IntegerField()
    limit = serializers.IntegerField()
    unit = serializers.ChoiceField(choices=["chars", "bytes"])


class SequenceStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = SequenceStep
        fields = ["position", "template", "delay_days"]
        read_only_fields = ["position"]


class SequenceSerializer(serializers.ModelSerializer):
    """Steps in order: the first goes out at launch, each next one `delay_days` after the one before
    if the creator has not replied. Writing `steps` replaces them all; the rules are
    `outreach.services.sequences.check_sequence`'s."""

    steps = SequenceStepSerializer(many=True, max_length=MAX_STEPS)

    class Meta:
        model = Sequence
        fields = ["id", "name", "steps", "created_by", "created_at"]
        read_only_fields = ["id", "created_by", "created_at"]


class SenderAccountSerializer(serializers.ModelSerializer):
    """The brand's account on a platform. `access_token` is write-only: it is stored encrypted and
    never returned; `has_token` says whether one is set."""

    access_token = serializers.CharField(
        write_only=True, required=False, allow_blank=True, style={"input_type": "password"}, max_length=4000
    )
    has_token = serializers.SerializerMethodField()
    sending = serializers.SerializerMethodField(help_text="False while paused or while its breaker is open.")
    smtp_password = serializers.CharField(
        write_only=True, required=False, allow_blank=True, style={"input_type": "password"}, max_length=1000,
        help_text="Email: the SMTP (app) password; stored encrypted, never returned. Empty removes it.",
    )  # fmt: skip
    imap_password = serializers.CharField(
        write_only=True, required=False, allow_blank=True, style={"input_type": "password"}, max_length=1000,
        help_text="Email: the IMAP (app) password; stored encrypted, never returned. Empty removes it.",
    )  # fmt: skip
    has_smtp_password = serializers.SerializerMethodField()
    has_imap_password = serializers.SerializerMethodField()

    class Meta:
        model = SenderAccount
        fields = ["id", "name", "platform", "variant", "account_id", "access_token", "has_token", "api_base_url",
                  "api_version", "from_name", "rate_per_second", "rate_per_15min", "rate_per_day", "daily_cap",
                  "auto_reply_template", "auto_reply_every_hours", "paused", "sending", "breaker_state",
                  "breaker_reason", "breaker_opened_at", "breaker_until", "consecutive_failures",
                  "rate_limited_until", "owner", "created_at",
                  "smtp_host", "smtp_port", "smtp_security", "smtp_username", "smtp_password", "has_smtp_password",
                  "imap_host", "imap_port", "imap_security", "imap_username", "imap_password", "has_imap_password",
                  "imap_authserv_id", "mailbox_checked_at", "mailbox_error", "mailbox_error_at"]  # fmt: skip
        read_only_fields = ["id", "has_token", "sending", "paused", "breaker_state", "breaker_reason",
                            "breaker_opened_at", "breaker_until", "consecutive_failures", "rate_limited_until",
                            "owner", "created_at", "has_smtp_password", "has_imap_password",
                            "mailbox_checked_at", "mailbox_error", "mailbox_error_at"]  # fmt: skip

    def get_has_token(self, sender) -> bool:
        return bool(sender.access_token_encrypted)

    def get_sending(self, sender) -> bool:
        return sender.is_sending()

    def get_has_smtp_password(self, sender) -> bool:
        return bool(sender.smtp_password_encrypted)

    def get_has_imap_password(self, sender) -> bool:
        return bool(sender.imap_password_encrypted)


class OutreachMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = OutreachMessage
        fields = ["id", "campaign", "permission_request", "creator", "sequence", "step", "reach", "launch", "template",
                  "sender_account", "platform", "recipient_id", "rendered_subject", "rendered_text",
                  "human_agent", "delivery_mode", "reason", "status", "attempts", "due_at", "next_attempt_at",
                  "provider_message_id", "error_code", "error_message", "sent_at", "sent_by", "created_by",
                  "created_at", "updated_at"]  # fmt: skip
        read_only_fields = fields


class MarkSentSerializer(serializers.Serializer):
    provider_message_id = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default="", help_text="The platform's id, if you have it."
    )


class BulkMarkSentSerializer(serializers.Serializer):
    messages = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),  # an id the database can hold
        min_length=1,
        max_length=200,
        help_text="Ids of outbox messages you sent by hand (manual queue or held for review).",
    )


class BulkMarkSentResultSerializer(serializers.Serializer):
    sent = serializers.ListField(child=serializers.IntegerField(), help_text="Recorded as sent by you, now.")
    skipped = serializers.IntegerField(
        help_text="Left as they were: already sent (perhaps by a colleague), not in the queue, or not yours."
    )


class FollowUpTaskSerializer(serializers.ModelSerializer):
    class Meta:
        model = FollowUpTask
        fields = ["id", "creator", "conversation", "assignee", "reason", "due_at", "done_at", "done_by", "created_at"]
        read_only_fields = fields


class ConversationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Conversation
        fields = ["id", "creator", "platform", "social_account", "sender_account", "platform_conversation_id",
                  "last_inbound_at", "last_outbound_at", "created_at"]  # fmt: skip
        read_only_fields = fields


class ConversationMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConversationMessage
        fields = ["id", "conversation", "platform", "direction", "platform_message_id", "text", "at",
                  "read_at", "outreach_message", "classification", "classification_rule", "classified_by",
                  "created_at"]  # fmt: skip
        read_only_fields = fields


DECISIONS = [
    (ConversationMessage.Classification.GRANTED, "Rights granted"),
    (ConversationMessage.Classification.DECLINED, "Declined"),
    (ConversationMessage.Classification.REVOKED, "Rights withdrawn"),
    (ConversationMessage.Classification.OPTED_OUT, "Opted out of all contact"),
    (ConversationMessage.Classification.REPLY, "Just a reply"),
]


RIGHTS_DECISIONS = [("granted", "Rights granted"), ("declined", "Declined")]


class LogReplySerializer(serializers.Serializer):
    """A reply that reached you off-platform, entered by hand."""

    text = serializers.CharField(max_length=20000)
    at = serializers.DateTimeField(required=False, help_text="When it was received; now if left out.")
    decision = serializers.ChoiceField(
        choices=DECISIONS, required=False, allow_blank=True, default="", help_text="What it means, if you know."
    )


class ClassifySerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=DECISIONS)
    permission_request = serializers.IntegerField(
        required=False, allow_null=True, help_text="Which request it answers, when the creator has several."
    )


class ReplySerializer(serializers.Serializer):
    text = serializers.CharField(max_length=100_000)
    sender_account = serializers.PrimaryKeyRelatedField(
        queryset=SenderAccount.objects.all(), required=False, allow_null=True
    )


class LaunchChannelSerializer(serializers.Serializer):
    sender_account = serializers.PrimaryKeyRelatedField(queryset=SenderAccount.objects.all())
    template = serializers.PrimaryKeyRelatedField(
        queryset=MessageTemplate.objects.all(), required=False, allow_null=True
    )
    sequence = serializers.PrimaryKeyRelatedField(queryset=Sequence.objects.all(), required=False, allow_null=True)


class LaunchSerializer(serializers.Serializer):
    template = serializers.PrimaryKeyRelatedField(
        queryset=MessageTemplate.objects.all(), required=False, allow_null=True
    )
    sequence = serializers.PrimaryKeyRelatedField(queryset=Sequence.objects.all(), required=False, allow_null=True)
    sender_account = serializers.PrimaryKeyRelatedField(
        queryset=SenderAccount.objects.all(),
        required=False,
        allow_null=True,
        help_text="One channel: the account to send from (with `template` or `sequence`); or give `plan`.",
    )
    plan = LaunchChannelSerializer(
        many=True,
        required=False,
        max_length=5,
        help_text="Channels in order: each member gets the first one the policy lets go by API now.",
    )
    manual_fallback = serializers.BooleanField(
        default=True, help_text="When no channel goes by API: the first that goes to the manual queue; else blocked."
    )
    again = serializers.BooleanField(
        default=False,
        help_text="Launch again for the members no earlier launch reached (all their messages blocked, "
        "cancelled or failed); without it, a member who has a message is left alone.",
    )
    members = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        allow_null=True,
        max_length=MAX_IDS,
        help_text="Member ids to launch for; all members when left out.",
    )
    dry_run = serializers.BooleanField(default=False, help_text="Count only: nothing is queued.")

    def validate(self, data):
        if data.get("plan") and data.get("sender_account"):
            raise serializers.ValidationError({"plan": ["Give a plan or a sender_account, not both."]})
        if not data.get("plan") and not data.get("sender_account"):
            raise serializers.ValidationError({"sender_account": ["Choose the account to send from, or a plan."]})
        return data


class LaunchReasonSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=OutreachMessage.DeliveryMode.choices)
    reason = serializers.CharField()
    count = serializers.IntegerField()


class LaunchChannelCountSerializer(serializers.Serializer):
    channel = serializers.CharField(help_text="The sender platform (instagram, email, ...).")
    mode = serializers.ChoiceField(choices=OutreachMessage.DeliveryMode.choices)
    count = serializers.IntegerField()


class LaunchChoiceSerializer(serializers.Serializer):
    member = serializers.IntegerField()
    creator = serializers.CharField()
    channel = serializers.CharField()
    sender_account = serializers.CharField(help_text="The sender account's name.")
    mode = serializers.ChoiceField(choices=OutreachMessage.DeliveryMode.choices)
    reason = serializers.CharField(help_text="The policy's own words.")


class LaunchPreviewSerializer(serializers.Serializer):
    creator = serializers.CharField()
    subject = serializers.CharField()
    text = serializers.CharField()
    mode = serializers.CharField()
    reason = serializers.CharField()


class LaunchResultSerializer(serializers.Serializer):
    launch = serializers.IntegerField(allow_null=True, help_text="The launch recorded (null for a dry run).")
    number = serializers.IntegerField(allow_null=True, help_text="1 for the campaign's first launch, then 2, ...")
    members = serializers.IntegerField()
    created = serializers.IntegerField(help_text="Messages queued now (would be, with dry_run).")
    already_queued = serializers.IntegerField(help_text="Members who already had this message: not queued twice.")
    by_mode = serializers.DictField(child=serializers.IntegerField(), help_text="Counts by api, manual, blocked.")
    by_reason = LaunchReasonSerializer(many=True)
    by_channel = LaunchChannelCountSerializer(many=True)
    choices = LaunchChoiceSerializer(many=True, help_text="Member by member (the first 500): channel and why.")
    preview = LaunchPreviewSerializer(allow_null=True)


class LaunchRecordSerializer(serializers.ModelSerializer):
    """A launch as recorded: its plan, who and when, and its counts."""

    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    counts = serializers.DictField(read_only=True, help_text="by_mode and by_channel: {platform: {mode: n}}.")
    plan = serializers.ListField(child=serializers.DictField(), read_only=True)

    class Meta:
        model = Launch
        fields = ["id", "campaign", "number", "plan", "manual_fallback", "again", "members", "created",
                  "already_queued", "counts", "created_by", "created_at"]  # fmt: skip
        read_only_fields = fields


class BlockedMessageSerializer(serializers.ModelSerializer):
    """Who a launch could not reach, and why (the policy's words)."""

    creator_name = serializers.CharField(source="creator.name", read_only=True)
    launch_number = serializers.IntegerField(source="launch.number", read_only=True, allow_null=True)

    class Meta:
        model = OutreachMessage
        fields = ["id", "creator", "creator_name", "platform", "sender_account", "launch", "launch_number", "reach",
                  "reason", "created_at"]  # fmt: skip
        read_only_fields = fields


class PermissionRequestCreateSerializer(serializers.Serializer):
    """Ask a creator for the rights to one post; the request is sent through the outbox at once."""

    content = VisibleContentField()
    campaign = WorkableCampaignField(required=False, allow_null=True, help_text="The post's own when left out.")
    channels = serializers.ListField(
        child=serializers.ChoiceField(choices=UsageChannel.choices), allow_empty=False, max_length=MAX_CHOICES
    )
    territory = serializers.CharField(max_length=200, default="worldwide")
    exclusive = serializers.BooleanField(default=False)
    duration_days = serializers.IntegerField(
        min_value=1, max_value=MAX_DURATION_DAYS, required=False, allow_null=True, help_text="Empty: no end date."
    )
    terms_url = serializers.URLField(max_length=500)
    terms_text = serializers.CharField(
        max_length=MAX_TERMS, help_text="The exact terms the creator agrees to; frozen by its hash."
    )
    terms_version = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    approval_hashtag = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default="", help_text="The campaign's when left out."
    )
    sender_account = serializers.PrimaryKeyRelatedField(queryset=SenderAccount.objects.all())
    template = serializers.PrimaryKeyRelatedField(
        queryset=MessageTemplate.objects.all(), help_text="Its text must show the approval hashtag."
    )


class DecisionSerializer(serializers.Serializer):
    """A decision the creator made where no webhook saw it (an email to a person, a call): recorded
    as yours, with the words they used."""

    decision = serializers.ChoiceField(choices=RIGHTS_DECISIONS)
    text = serializers.CharField(max_length=MAX_WORDS, help_text="The creator's exact words.")
    channel = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    message_id = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    occurred_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    note = serializers.CharField(max_length=MAX_WORDS, required=False, allow_blank=True, default="")


class RevokeSerializer(serializers.Serializer):
    text = serializers.CharField(
        max_length=MAX_WORDS, help_text="The creator's words withdrawing the rights (or your note of them)."
    )
    channel = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    occurred_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
