"""What the CRM's resources look like to other tools. Consent status, owners and platform ids are
read-only here: they change only through the services."""

from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.headersafe import validate_one_line
from crm import access, importer
from crm.models import (
    Campaign,
    CampaignMember,
    ColumnMapping,
    ConsentEvent,
    Content,
    Creator,
    PermissionRequest,
    SocialAccount,
    Tag,
    UsageChannel,
)
from crm.services.creators import MAX_FOLLOWERS

# Bounds on every input (SECURITY.md): no list or text a client sends is unbounded.
MAX_TEXT = 20_000  # notes, captions, goals
MAX_TAGS = 100  # tags on one creator
MAX_ACCOUNTS = 50  # accounts given with a new creator
MAX_TEAM = 100  # users on a campaign's team


class BoundedManyRelatedField(serializers.ManyRelatedField):
    """A list of related ids with a length limit, checked before any id is looked up."""

    def __init__(self, *, max_length: int, **kwargs):
        self.max_length = max_length
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, list) and len(data) > self.max_length:
            raise serializers.ValidationError(f"Ensure this field has no more than {self.max_length} elements.")
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.INT)
class WorkableCampaignField(serializers.PrimaryKeyRelatedField):
    """A campaign the caller works on, by id; another team's reads as unknown, like a missing one."""

    def get_queryset(self):
        request = self.context.get("request")
        return access.workable_campaigns(request.user) if request else Campaign.objects.none()


@extend_schema_field(OpenApiTypes.INT)
class VisibleContentField(serializers.PrimaryKeyRelatedField):
    """A post outside any campaign, or of a campaign the caller sees, by id."""

    def get_queryset(self):
        request = self.context.get("request")
        return access.visible(Content.objects.all(), request.user) if request else Content.objects.none()


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


DATETIME = serializers.DateTimeField()  # how the model serializers write dates and times


class CreatorSerializer(serializers.ModelSerializer):
    accounts = NestedAccountSerializer(many=True, read_only=True)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    contactable = serializers.BooleanField(source="is_contactable", read_only=True)

    class Meta:
        model = Creator
        fields = ["id", "name", "email", "country", "language", "status", "tags", "owner", "accounts", "contactable",
                  "opted_out_at", "contact_allowed_at", "erased_at", "merged_into",
                  "created_at", "updated_at"]  # fmt: skip
        read_only_fields = fields

    ACCOUNT_FIELDS = ["id", "platform", "handle", "platform_user_id", "follower_count", "profile_url"]

    @classmethod
    def load_relations(cls, creators) -> None:
        """The accounts and tag names of a page of creators in two queries, as plain values: building
        model instances and a queryset per creator (what prefetch_related does) cost more than the rows."""
        ids = [creator.pk for creator in creators]
        accounts, tags = {pk: [] for pk in ids}, {pk: [] for pk in ids}
        rows = SocialAccount.objects.filter(creator_id__in=ids).order_by("platform", "handle")
        for account in rows.values("creator_id", *cls.ACCOUNT_FIELDS):
            accounts[account.pop("creator_id")].append(account)
        links = Creator.tags.through.objects.filter(creator_id__in=ids).order_by("tag__name")
        for creator_id, name in links.values_list("creator_id", "tag__name"):
            tags[creator_id].append(name)
        for creator in creators:
            creator.listed_accounts, creator.listed_tags = accounts[creator.pk], tags[creator.pk]

    def to_representation(self, creator):
        """The declared fields written out: pages of creators are the API's busiest answer, and DRF's
        generic path costs several times this (tests/api/test_creator_list.py compares the two).
        Reads what load_relations attached, else the related managers."""
        when = DATETIME.to_representation
        accounts = getattr(creator, "listed_accounts", None)
        if accounts is None:
            accounts = [
                {name: getattr(account, name) for name in self.ACCOUNT_FIELDS} for account in creator.accounts.all()
            ]
        tags = getattr(creator, "listed_tags", None)
        return {
            "id": creator.id,
            "name": creator.name,
            "email": creator.email,
            "country": creator.country,
            "language": creator.language,
            "status": creator.status,
            "tags": [tag.name for tag in creator.tags.all()] if tags is None else tags,
            "owner": creator.owner_id,
            "accounts": accounts,
            "contactable": creator.is_contactable,
            "opted_out_at": when(creator.opted_out_at),
            "contact_allowed_at": when(creator.contact_allowed_at),
            "erased_at": when(creator.erased_at),
            "merged_into": creator.merged_into_id,
            "created_at": when(creator.created_at),
            "updated_at": when(creator.updated_at),
        }


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
        help_text="Granted and not past its end date; the channel and territory are not checked here: ask "
        "`GET /api/v1/content/may-use/` whether the post may run on a channel, in a country, on a date."
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
    voided_by = serializers.SerializerMethodField(help_text="The correction voiding this entry.")

    def get_voided_by(self, event) -> int | None:
        corrections = getattr(event, "corrections", None)
        if corrections is None:
            corrections = list(event.voided_by.all())
        return corrections[0].pk if corrections else None

    class Meta:
        model = ConsentEvent
        fields = ["id", "kind", "creator", "permission_request", "occurred_at", "recorded_at", "recorded_by", "rule",
                  "channel", "inbound_message_id", "inbound_text_sha256", "outbound_text_sha256", "terms_sha256",
                  "scope", "note", "voids", "voided_by", "previous_hash", "entry_hash"]  # fmt: skip
        read_only_fields = fields


class NewAccountSerializer(serializers.Serializer):
    platform = serializers.ChoiceField(choices=SocialAccount._meta.get_field("platform").choices)
    handle = serializers.CharField(max_length=500, help_text="A handle (`@jane.doe`) or a profile URL.")
    follower_count = serializers.IntegerField(min_value=0, max_value=MAX_FOLLOWERS, required=False, allow_null=True)


class CreatorCreateSerializer(serializers.Serializer):
    """What a tool may set when adding a creator; consent status, owner and ids are not among it."""

    name = serializers.CharField(max_length=200, validators=[validate_one_line])
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, default="")
    country = serializers.CharField(max_length=2, required=False, allow_blank=True, default="")
    language = serializers.CharField(max_length=16, required=False, allow_blank=True, default="")
    notes = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True, default="")
    tags = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, default=list, max_length=MAX_TAGS
    )
    accounts = NewAccountSerializer(many=True, required=False, default=list, max_length=MAX_ACCOUNTS)


class CreatorMergeSerializer(serializers.Serializer):
    """The creator this record is (a prospect who turned out to be someone we know)."""

    into = serializers.PrimaryKeyRelatedField(
        queryset=Creator.objects.all(), help_text="The creator to merge into; this record points to it afterwards."
    )


class AccountChangeSerializer(serializers.Serializer):
    id = serializers.IntegerField(
        required=False, allow_null=True, help_text="One of this creator's accounts; empty adds a new one."
    )
    platform = serializers.ChoiceField(choices=SocialAccount._meta.get_field("platform").choices, required=False)
    handle = serializers.CharField(max_length=500, required=False, allow_blank=True,
                                   help_text="A handle (`@jane.doe`) or a profile URL.")  # fmt: skip
    delete = serializers.BooleanField(required=False, default=False, help_text="Remove this account.")


class CreatorUpdateSerializer(serializers.Serializer):
    """What a tool may change on a creator; status, consent and owner change elsewhere."""

    name = serializers.CharField(max_length=200, required=False, validators=[validate_one_line])
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    country = serializers.CharField(max_length=2, required=False, allow_blank=True)
    language = serializers.CharField(max_length=16, required=False, allow_blank=True)
    notes = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        max_length=MAX_TAGS,
        help_text="Replaces the creator's tags.",
    )
    accounts = AccountChangeSerializer(
        many=True,
        required=False,
        max_length=MAX_ACCOUNTS,
        help_text="Accounts to add (no id), change (id with platform and handle) or remove (id, delete); "
        "accounts not listed stay as they are. Errors come back by entry.",
    )


class SocialAccountCreateSerializer(serializers.Serializer):
    """Add an account to an existing creator, by handle or profile URL."""

    creator = serializers.PrimaryKeyRelatedField(queryset=Creator.objects.filter(erased_at__isnull=True))
    platform = serializers.ChoiceField(choices=SocialAccount._meta.get_field("platform").choices)
    handle = serializers.CharField(max_length=500, help_text="A handle (`@jane.doe`) or a profile URL.")
    follower_count = serializers.IntegerField(min_value=0, max_value=MAX_FOLLOWERS, required=False, allow_null=True)


class TagCreateSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["name"]


class MayUseQuerySerializer(serializers.Serializer):
    """The question: may this post be used on this channel, in this country, on this date?"""

    url = serializers.CharField(max_length=1000, help_text="The post's link, in any form it was copied.")
    channel = serializers.ChoiceField(choices=UsageChannel.choices)
    territory = serializers.CharField(max_length=100, help_text="One country: an ISO code (DE) or its name (Germany).")
    date = serializers.DateField(required=False, help_text="The day of use (YYYY-MM-DD); today if left out.")


class MayUseAnswerSerializer(serializers.Serializer):
    """Yes or no, why in words, and the permission request the answer rests on."""

    may_use = serializers.BooleanField()
    reason = serializers.CharField(max_length=1000, help_text="e.g. “No: paid ads are not in the grant (request #12).”")
    permission_request = serializers.IntegerField(allow_null=True)
    content = serializers.IntegerField()
    content_url = serializers.CharField(max_length=500)
    channel = serializers.CharField(max_length=40)
    territory = serializers.CharField(max_length=200, help_text="The country asked about, as its ISO code.")
    date = serializers.DateField()


class ContentCreateSerializer(serializers.Serializer):
    """Register a post (its link in any form it was copied); the platform is read from the link."""

    creator = serializers.PrimaryKeyRelatedField(queryset=Creator.objects.filter(erased_at__isnull=True))
    url = serializers.CharField(max_length=1000)
    campaign = WorkableCampaignField(required=False, allow_null=True)
    caption = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True, default="")
    media_url = serializers.URLField(max_length=500, required=False, allow_blank=True, default="")
    posted_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class CampaignWriteSerializer(serializers.Serializer):
    """A campaign's details and team; the owner is whoever creates it."""

    name = serializers.CharField(max_length=200)
    brand = serializers.CharField(max_length=200)
    goal = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=Campaign.Status.choices, required=False)
    starts_on = serializers.DateField(required=False, allow_null=True)
    ends_on = serializers.DateField(required=False, allow_null=True)
    approval_hashtag = serializers.CharField(max_length=64, required=False, allow_blank=True)
    terms_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    terms_version = serializers.CharField(max_length=32, required=False, allow_blank=True)
    team = BoundedManyRelatedField(
        child_relation=serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.filter(is_active=True)),
        max_length=MAX_TEAM,
        required=False,
        help_text="User ids.",
    )


class CampaignMemberSerializer(serializers.ModelSerializer):
    creator_name = serializers.CharField(source="creator.name", read_only=True)

    class Meta:
        model = CampaignMember
        fields = ["id", "campaign", "creator", "creator_name", "stage", "assignee", "stage_changed_at", "created_at"]
        read_only_fields = fields


class AddMembersSerializer(serializers.Serializer):
    creators = serializers.ListField(
        child=serializers.IntegerField(min_value=1), allow_empty=False, max_length=1000, help_text="Creator ids."
    )
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True), required=False, allow_null=True
    )


class AddMembersResultSerializer(serializers.Serializer):
    added = serializers.IntegerField(help_text="Creators newly added; those already in it are left as they are.")


class MemberUpdateSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=CampaignMember.Stage.choices, required=False)
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True), required=False, allow_null=True
    )


class VoidEntrySerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why this entry was recorded in error.")


MAX_HEADER = 255  # a column's header in a saved import mapping
IMPORT_FIELDS = ", ".join(importer.KNOWN_COLUMNS)


class ImportColumnSerializer(serializers.Serializer):
    """One column of a saved import mapping: the file's header, and the import's field it goes to
    (empty: the column is ignored). Read from and kept as a [header, field] pair."""

    header = serializers.CharField(
        max_length=MAX_HEADER,
        allow_blank=True,
        help_text="As in the file's first line; case and punctuation do not count.",
    )
    field = serializers.ChoiceField(
        choices=[("", "ignore the column"), *importer.FIELD_LABELS.items()],
        allow_blank=True,
        help_text="The import's field for this column, or empty to ignore it.",
        error_messages={
            "invalid_choice": f"“{{input}}” is not one of the import's fields ({IMPORT_FIELDS}); "
            "leave it empty to ignore the column."
        },
    )

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        return [value["header"], value["field"]]

    def to_representation(self, instance):
        header, target = instance
        return {"header": header, "field": target}


class ColumnMappingSerializer(serializers.ModelSerializer):
    columns = ImportColumnSerializer(many=True, read_only=True)

    class Meta:
        model = ColumnMapping
        fields = ["id", "name", "owner", "for_team", "columns", "signature", "created_at", "updated_at"]
        read_only_fields = fields


class ColumnMappingWriteSerializer(serializers.Serializer):
    """A saved import mapping as a client sends it: its name (one per owner), whether the whole team
    may use it, and its columns; the columns' rules are the service's (crm/services/column_mappings.py)."""

    name = serializers.CharField(max_length=100)
    for_team = serializers.BooleanField(default=False, help_text="Offered to the whole team, not only to you.")
    columns = ImportColumnSerializer(many=True, allow_empty=False, max_length=importer.MAX_COLUMNS)
