"""The pages' own rows in the admin: each person's page settings, and the bulk actions the queue ran."""

from django.contrib import admin

from crm.admin import ModelAdmin, ReadOnlyModelAdmin
from web.models import BulkJob, Preferences


@admin.register(Preferences)
class PreferencesAdmin(ModelAdmin):
    list_display = ["user", "time_zone", "updated_at"]
    search_fields = ["user__username", "time_zone"]
    readonly_fields = ["updated_at"]


@admin.register(BulkJob)
class BulkJobAdmin(ReadOnlyModelAdmin):
    """Read-only: a job is the record of what was done to whom; it is changed only by its run."""

    list_display = ["id", "created_by", "action", "tag_name", "campaign_name", "status", "matched", "added"]
    list_filter = ["status", "action"]
    search_fields = ["created_by__username", "tag_name", "campaign_name", "filter_query"]
    list_select_related = ["created_by"]
