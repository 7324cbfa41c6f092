"""Admin for outreach: templates, sequences, sender accounts (token write-only), conversations, outbox."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models

from crm.admin import ModelAdmin, ReadOnlyModelAdmin
from outreach import services
from outreach.models import (
    BrandPost,
    Comment,
    CommentRightsRequest,
    Conversation,
    ConversationMessage,
    ConversationMessageVersion,
    DiscoveredMedia,
    FollowUpTask,
    HashtagSearch,
    InboundEvent,
    KeywordRule,
    Launch,
    MessageTemplate,
    OutreachMessage,
    PrivateReply,
    SenderAccount,
    Sequence,
    SequenceStep,
)


@admin.register(MessageTemplate)
class MessageTemplateAdmin(ModelAdmin):
    list_display = ["name", "platforms", "variables", "updated_at"]
    search_fields = ["name", "body", "subject"]
    readonly_fields = ["variables", "created_at", "updated_at"]


class SequenceStepInline(admin.TabularInline):
    model = SequenceStep
    extra = 1
    autocomplete_fields = ["template"]


@admin.register(Sequence)
class SequenceAdmin(ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    inlines = [SequenceStepInline]


class SenderAccountForm(forms.ModelForm):
    """The token is typed once and stored encrypted; it is never shown again."""

    new_access_token = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the stored token.",
    )

    class Meta:
        model = SenderAccount
        fields = [
            "name",
            "platform",
            "variant",
            "account_id",
            "new_access_token",
            "api_base_url",
            "api_version",
            "from_name",
            "rate_per_second",
            "rate_per_15min",
            "rate_per_day",
            "daily_cap",
            "paused",
            "breaker_state",
            "breaker_reason",
            "breaker_until",
            "rate_limited_until",
            "auto_reply_template",
            "auto_reply_every_hours",
            "owner",
        ]

        @staticmethod
        def formfield_callback(field, **kwargs):
            if isinstance(field, models.URLField):
                kwargs["assume_scheme"] = "https"
            return field.formfield(**kwargs)

    def save(self, commit=True):
        if self.cleaned_data.get("new_access_token"):
            self.instance.set_access_token(self.cleaned_data["new_access_token"])
        return super().save(commit)


@admin.register(SenderAccount)
class SenderAccountAdmin(ModelAdmin):
    form = SenderAccountForm
    list_display = ["name", "platform", "account_id", "paused", "breaker_state", "breaker_reason", "rate_limited_until"]
    list_filter = ["platform", "breaker_state", "paused"]
    search_fields = ["name", "account_id"]
    readonly_fields = ["breaker_opened_at", "consecutive_failures", "created_at"]
    actions = ["resume"]

    @admin.action(description="Resume sending (close the breaker)")
    def resume(self, request, queryset):
        for sender in queryset:
            services.resume_sender(sender, actor=request.user)
        self.message_user(request, f"{queryset.count()} account(s) resumed.", messages.SUCCESS)


@admin.register(Conversation)
class ConversationAdmin(ModelAdmin):
    list_display = ["creator", "platform", "last_inbound_at", "last_outbound_at", "outbound_since_inbound"]
    list_filter = ["platform"]
    search_fields = ["creator__name", "platform_conversation_id"]
    autocomplete_fields = ["creator", "social_account", "sender_account"]
    list_select_related = ["creator"]


@admin.register(Launch)
class LaunchAdmin(ReadOnlyModelAdmin):
    """A campaign's launches: the plan, who launched and the counts; a record, read only."""

    list_display = ["campaign", "number", "created_by", "created_at", "members", "created", "already_queued"]
    list_select_related = ["campaign", "created_by"]
    search_fields = ["campaign__name"]


@admin.register(OutreachMessage)
class OutreachMessageAdmin(ModelAdmin):
    """The outbox is written by the services and the worker; here it is read, cancelled or marked sent."""

    list_display = ["creator", "platform", "campaign", "step", "status", "delivery_mode", "reason", "sent_at"]
    list_filter = ["status", "delivery_mode", "platform", "sender_account"]
    search_fields = ["creator__name", "provider_message_id", "rendered_text"]
    list_select_related = ["creator", "campaign"]
    actions = ["mark_sent", "cancel"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Mark as sent by me (manual queue)")
    def mark_sent(self, request, queryset):
        self._apply(request, queryset, services.mark_sent_manually)

    @admin.action(description="Cancel")
    def cancel(self, request, queryset):
        self._apply(request, queryset, services.cancel_message)

    def _apply(self, request, queryset, verb):
        done = 0
        for message in queryset:
            try:
                verb(message, actor=request.user)
                done += 1
            except ValidationError as error:
                self.message_user(request, f"{message}: {'; '.join(error.messages)}", messages.WARNING)
        self.message_user(request, f"{done} message(s) updated.", messages.SUCCESS)


@admin.register(InboundEvent)
class InboundEventAdmin(ReadOnlyModelAdmin):
    """Raw webhook deliveries, kept as received: read only."""

    list_display = ["provider", "event_id", "status", "received_at", "processed_at"]
    list_filter = ["provider", "status"]
    search_fields = ["event_id", "error"]


class VersionInline(admin.TabularInline):
    """Every text the message has had (edits never overwrite)."""

    model = ConversationMessageVersion
    extra = 0
    can_delete = False
    readonly_fields = ["number", "text", "attachments", "at", "inbound_event", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ConversationMessage)
class ConversationMessageAdmin(ModelAdmin):
    list_display = ["conversation", "direction", "kind", "text", "at", "classification", "classified_by"]
    list_filter = ["platform", "direction", "kind", "classification"]
    inlines = [VersionInline]
    search_fields = ["text", "platform_message_id", "conversation__creator__name"]
    list_select_related = ["conversation__creator", "classified_by"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(FollowUpTask)
class FollowUpTaskAdmin(ModelAdmin):
    list_display = ["reason", "creator", "assignee", "due_at", "done_at"]
    list_filter = [("done_at", admin.EmptyFieldListFilter)]
    search_fields = ["creator__name", "reason"]
    autocomplete_fields = ["creator", "assignee"]
    raw_id_fields = ["conversation"]
    list_select_related = ["creator", "assignee"]


# --- Comments, mentions and UGC: records of what the platforms said and what we sent (read only) ---


@admin.register(BrandPost)
class BrandPostAdmin(ReadOnlyModelAdmin):
    list_display = ["media_id", "platform", "media_product_type", "live", "live_ended_at", "created_at"]
    search_fields = ["media_id", "caption"]


@admin.register(Comment)
class CommentAdmin(ReadOnlyModelAdmin):
    list_display = ["comment_id", "platform", "source", "from_username", "created_time", "live", "reply_used_at"]
    list_filter = ["platform", "source", "live", "hidden", "ours"]
    search_fields = ["comment_id", "media_id", "from_username", "text"]


@admin.register(PrivateReply)
class PrivateReplyAdmin(ReadOnlyModelAdmin):
    list_display = ["comment", "status", "automatic", "sent_at", "error_code"]
    list_filter = ["status", "automatic"]


@admin.register(DiscoveredMedia)
class DiscoveredMediaAdmin(ReadOnlyModelAdmin):
    list_display = ["media_id", "source", "username", "hashtag", "discovered_at"]
    list_filter = ["source"]
    search_fields = ["media_id", "username", "caption", "permalink"]


@admin.register(CommentRightsRequest)
class CommentRightsRequestAdmin(ReadOnlyModelAdmin):
    list_display = ["permission_request", "method", "author_username", "status", "due_at", "sent_at"]
    list_filter = ["status", "method"]


@admin.register(KeywordRule)
class KeywordRuleAdmin(ModelAdmin):
    list_display = ["keyword", "sender_account", "post", "template", "active"]
    list_filter = ["active"]


@admin.register(HashtagSearch)
class HashtagSearchAdmin(ReadOnlyModelAdmin):
    list_display = ["hashtag", "sender_account", "first_queried_at", "last_polled_at", "active"]
