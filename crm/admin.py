"""Admin for every CRM model: searchable, filterable, and the consent ledger read-only."""

from django.contrib import admin
from django.db import models

from crm.models import (
    AccessRole,
    ApiToken,
    Campaign,
    CampaignMember,
    ColumnMapping,
    ConsentEvent,
    Content,
    Creator,
    EvidenceText,
    ImportSeenCreator,
    PermissionRequest,
    SocialAccount,
    Tag,
)
from crm.services.tokens import revoke_api_token

# A bare "instagram.com/p/x" typed into a URL field means https (Django 6's default).
URL_FIELDS_ASSUME_HTTPS = {models.URLField: {"assume_scheme": "https"}}


class ModelAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS


class ReadOnlyModelAdmin(ModelAdmin):
    """For records that are evidence or history: searchable and readable, never written from here."""

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SocialAccountInline(admin.TabularInline):
    model = SocialAccount
    extra = 0
    fields = ["platform", "handle", "platform_user_id", "follower_count", "profile_url"]
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS


class ConsentEventInline(admin.TabularInline):
    model = ConsentEvent
    fk_name = "creator"
    extra = 0
    can_delete = False
    fields = ["kind", "occurred_at", "recorded_by_label", "rule", "inbound_message_id"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Tag)
class TagAdmin(ModelAdmin):
    search_fields = ["name"]
    list_display = ["name", "created_at"]


@admin.register(Creator)
class CreatorAdmin(ModelAdmin):
    list_display = ["name", "email", "country", "status", "owner", "opted_out_at", "created_at"]
    list_filter = ["status", "country", "language", "tags", ("opted_out_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "email", "accounts__handle"]
    autocomplete_fields = ["owner", "tags"]
    readonly_fields = ["opted_out_at", "contact_allowed_at", "erased_at", "created_at", "updated_at"]
    inlines = [SocialAccountInline, ConsentEventInline]
    list_select_related = ["owner"]
    show_full_result_count = False


@admin.register(SocialAccount)
class SocialAccountAdmin(ModelAdmin):
    list_display = ["handle", "platform", "creator", "platform_user_id", "follower_count"]
    list_filter = ["platform"]
    search_fields = ["handle", "platform_user_id", "creator__name"]
    autocomplete_fields = ["creator"]
    list_select_related = ["creator"]
    show_full_result_count = False


class CampaignMemberInline(admin.TabularInline):
    model = CampaignMember
    extra = 0
    autocomplete_fields = ["creator", "assignee"]


@admin.register(Campaign)
class CampaignAdmin(ModelAdmin):
    list_display = ["name", "brand", "status", "starts_on", "ends_on", "owner", "approval_hashtag"]
    list_filter = ["status", "brand"]
    search_fields = ["name", "brand", "approval_hashtag"]
    autocomplete_fields = ["owner", "team"]
    inlines = [CampaignMemberInline]
    list_select_related = ["owner"]


@admin.register(CampaignMember)
class CampaignMemberAdmin(ModelAdmin):
    list_display = ["creator", "campaign", "stage", "assignee", "stage_changed_at"]
    list_filter = ["stage", "campaign"]
    search_fields = ["creator__name", "campaign__name"]
    autocomplete_fields = ["creator", "campaign", "assignee"]
    list_select_related = ["creator", "campaign", "assignee"]


@admin.register(Content)
class ContentAdmin(ModelAdmin):
    list_display = ["url", "creator", "platform", "campaign", "posted_at"]
    list_filter = ["platform", "campaign"]
    search_fields = ["url", "caption", "creator__name"]
    autocomplete_fields = ["creator", "social_account", "campaign"]
    list_select_related = ["creator", "campaign"]


@admin.register(PermissionRequest)
class PermissionRequestAdmin(ModelAdmin):
    """Requests are edited here only while drafts; decisions go through the ledger services."""

    list_display = ["content", "creator", "status", "requested_at", "decided_at", "rights_expire_at"]
    list_filter = ["status", "exclusive", "campaign"]
    search_fields = ["content__url", "creator__name", "approval_hashtag"]
    autocomplete_fields = ["content", "campaign"]
    readonly_fields = [
        "creator",
        "status",
        "terms_sha256",
        "request_text",
        "requested_at",
        "decided_at",
        "rights_expire_at",
        "created_by",
        "created_at",
        "updated_at",
    ]
    list_select_related = ["content", "creator"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != PermissionRequest.Status.DRAFT:
            # What was sent is evidence: once requested, nothing about it changes.
            return [field.name for field in self.model._meta.fields]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        obj.creator = obj.content.creator
        obj.terms_sha256 = PermissionRequest.hash_terms(obj.terms_text)
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        return obj is None or obj.status == PermissionRequest.Status.DRAFT


@admin.register(EvidenceText)
class EvidenceTextAdmin(ReadOnlyModelAdmin):
    """Evidence bodies: readable, never edited here (erasure goes through the service)."""

    list_display = ["sha256", "creator", "created_at"]
    search_fields = ["sha256", "creator__name"]
    list_select_related = ["creator"]


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyModelAdmin):
    """The ledger: searchable and readable, never added to, changed or deleted from here."""

    list_display = ["kind", "creator", "permission_request", "occurred_at", "recorded_by_label", "rule"]
    list_filter = ["kind", "channel", "recorded_at"]
    search_fields = ["creator__name", "inbound_message_id", "rule"]
    list_select_related = ["creator", "permission_request__content"]
    date_hierarchy = "recorded_at"

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "inbound_text", "outbound_text"]

    def get_actions(self, request):
        return {}

    @admin.display(description="Creator's words")
    def inbound_text(self, event):
        return event.inbound_text if event.inbound_text is not None else "(erased on request)"

    @admin.display(description="What we asked")
    def outbound_text(self, event):
        return event.outbound_text if event.outbound_text is not None else "(erased on request)"


@admin.register(AccessRole)
class AccessRoleAdmin(ModelAdmin):
    list_display = ["user", "role"]
    list_filter = ["role"]
    search_fields = ["user__username"]
    autocomplete_fields = ["user"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyModelAdmin):
    """Tokens are created with `createapitoken` (the key is shown once); here they are listed and revoked."""

    list_display = ["name", "prefix", "user", "created_at", "expires_at", "revoked_at", "last_used_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username"]
    actions = ["revoke"]

    def get_actions(self, request):
        return {"revoke": self.get_action("revoke")}

    @admin.action(description="Revoke (stops working at once)")
    def revoke(self, request, queryset):
        for token in queryset:
            revoke_api_token(token)
        self.message_user(request, f"{queryset.count()} token(s) revoked.")


@admin.register(ColumnMapping)
class ColumnMappingAdmin(ModelAdmin):
    list_display = ["name", "owner", "for_team", "updated_at"]
    list_filter = ["for_team"]
    search_fields = ["name", "owner__username"]
    readonly_fields = ["signature"]


@admin.register(ImportSeenCreator)
class ImportSeenCreatorAdmin(ReadOnlyModelAdmin):
    list_display = ["run", "creator_id", "line"]
    search_fields = ["run"]
