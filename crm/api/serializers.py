"""What the CRM's resources look like to other tools. Consent status, owners and platform ids are
read-only here: they change only through the services."""

from django.utils import timezone
from rest_framework import serializers

from crm.models import Campaign, ConsentEvent, Content, Creator, PermissionRequest, SocialAccount, Tag


class SocialAccountSerializer(serializers.ModelSerializer):
    class Meta:
        model = SocialAccount
        fields = ["id", "creator", "platform", "handle", "platform_user_id", "follower_count", "profile_url",
                  "accepts_dms", "created_at"]  # fmt: skip
        read_only_fields = fields


class NestedAccountSerializer(serializers.ModelSerializer):
    class Meta:
        model = SocialAccount
        fields = ["id", "platform", "handle", "platform_user_id", "follower_count", "profile_url"]
        read_only_fields = fields


class CreatorSerializer(serializers.ModelSerializer):
    accounts = NestedAccountSerializer(many=True, read_only=True)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    contactable = serializers.BooleanField(source="is_contactable", read_only=True)

    class Meta:
        model = Creator
        fields = ["id", "name", "email", "country", "language", "status", "tags", "owner", "accounts", "contactable",
                  "opted_out_at", "contact_allowed_at", "erased_at", "created_at", "updated_at"]  # fmt: skip
        read_only_fields = fields


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name"]
        read_only_fields = fields


class CampaignSerializer(serializers.ModelSerializer):
    class Meta:
        model = Campaign
        fields = ["id", "name", "brand", "goal", "status", "starts_on", "ends_on", "owner", "team", "approval_hashtag",
                  "terms_url", "terms_version", "created_at"]  # fmt: skip
        read_only_fields = fields


class ContentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Content
        fields = ["id", "creator", "social_account", "campaign", "platform", "url", "platform_post_id", "caption",
                  "media_url", "posted_at", "created_at"]  # fmt: skip
        read_only_fields = fields


class PermissionRequestSerializer(serializers.ModelSerializer):
    content_url = serializers.CharField(source="content.url", read_only=True)
    may_be_used = serializers.SerializerMethodField(
        help_text="True while the rights are granted and not past their end date: the post may run in its scope."
    )

    class Meta:
        model = PermissionRequest
        fields = ["id", "content", "content_url", "creator", "campaign", "channels", "territory", "exclusive",
                  "duration_days", "terms_url", "terms_version", "terms_sha256", "approval_hashtag", "status",
                  "may_be_used", "requested_at", "decided_at", "rights_expire_at", "created_at"]  # fmt: skip
        read_only_fields = fields

    def get_may_be_used(self, request) -> bool:
        if request.status != PermissionRequest.Status.GRANTED:
            return False
        return request.rights_expire_at is None or request.rights_expire_at > timezone.now()


class ConsentEventSerializer(serializers.ModelSerializer):
    recorded_by = serializers.CharField(source="recorded_by_label", read_only=True)

    class Meta:
        model = ConsentEvent
        fields = ["id", "kind", "creator", "permission_request", "occurred_at", "recorded_at", "recorded_by", "rule",
                  "channel", "inbound_message_id", "inbound_text_sha256", "outbound_text_sha256", "terms_sha256",
                  "scope", "previous_hash", "entry_hash"]  # fmt: skip
        read_only_fields = fields


class NewAccountSerializer(serializers.Serializer):
    platform = serializers.ChoiceField(choices=SocialAccount._meta.get_field("platform").choices)
    handle = serializers.CharField(max_length=500, help_text="A handle (`@jane.doe`) or a profile URL.")
    follower_count = serializers.IntegerField(min_value=0, required=False, allow_null=True)


class CreatorCreateSerializer(serializers.Serializer):
    """What a tool may set when adding a creator; consent status, owner and ids are not among it."""

    name = serializers.CharField(max_length=200)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    country = serializers.CharField(max_length=2, required=False, allow_blank=True, default="")
    language = serializers.CharField(max_length=16, required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    tags = serializers.ListField(child=serializers.CharField(max_length=64), required=False, default=list)
    accounts = NewAccountSerializer(many=True, required=False, default=list)
