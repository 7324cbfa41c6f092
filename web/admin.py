"""The pages' own rows in the admin: each person's page settings."""

from django.contrib import admin

from crm.admin import ModelAdmin
from web.models import Preferences


@admin.register(Preferences)
class PreferencesAdmin(ModelAdmin):
    list_display = ["user", "time_zone", "updated_at"]
    search_fields = ["user__username", "time_zone"]
    readonly_fields = ["updated_at"]
