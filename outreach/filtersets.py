"""Filters shared by outreach's API and pages: one definition per list."""

import django_filters
from django.db.models import Q

from crm.filtersets import FilterSet
from crm.models import Creator
from outreach.models import (
    Conversation,
    ConversationMessage,
    FollowUpTask,
    MessageTemplate,
    OutreachMessage,
    SenderAccount,
)


class TemplateFilter(FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    archived = django_filters.BooleanFilter(
        field_name="archived_at", lookup_expr="isnull", exclude=True, label="Archived (true) or in use (false)."
    )

    class Meta:
        model = MessageTemplate
        fields = ["name", "archived"]


class OutreachMessageFilter(FilterSet):
    q = django_filters.CharFilter(method="search", label="Search the creator's name and the text.")

    def search(self, queryset, name, value):
        return queryset.filter(Q(creator__name__icontains=value) | Q(rendered_text__icontains=value))

    due_before = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="lte")
    sent_after = django_filters.IsoDateTimeFilter(field_name="sent_at", lookup_expr="gte")

    class Meta:
        model = OutreachMessage
        fields = ["status", "delivery_mode", "platform", "campaign", "creator", "sender_account", "permission_request"]


class ConversationFilter(FilterSet):
    q = django_filters.CharFilter(method="search", label="Search the creator's name, email and handles.")

    def search(self, queryset, name, value):
        value = value.strip().lstrip("@")
        matching = Creator.objects.filter(
            Q(name__icontains=value) | Q(email__icontains=value) | Q(accounts__handle__icontains=value)
        ).values("pk")
        return queryset.filter(creator__in=matching)

    needs_review = django_filters.BooleanFilter(method="by_review", label="Has a reply waiting for a person.")
    replied_after = django_filters.IsoDateTimeFilter(field_name="last_inbound_at", lookup_expr="gte")

    class Meta:
        model = Conversation
        fields = ["platform", "creator", "sender_account"]

    def by_review(self, queryset, name, value):
        waiting = ConversationMessage.objects.filter(
            classification=ConversationMessage.Classification.NEEDS_REVIEW
        ).values("conversation_id")
        return queryset.filter(pk__in=waiting) if value else queryset.exclude(pk__in=waiting)


class SenderAccountFilter(FilterSet):
    class Meta:
        model = SenderAccount
        fields = ["platform", "paused", "breaker_state", "owner"]


class FollowUpTaskFilter(FilterSet):
    open = django_filters.BooleanFilter(field_name="done_at", lookup_expr="isnull", help_text="Only those not done.")

    class Meta:
        model = FollowUpTask
        fields = ["creator", "assignee"]
