"""Filters shared by the API and (later) the pages: one definition per list."""

import django_filters

from crm.handles import InvalidHandle, normalize_content_url, normalize_handle
from crm.models import Campaign, ConsentEvent, Content, Creator, PermissionRequest, Platform, SocialAccount, Tag


class CreatorFilter(django_filters.FilterSet):
    handle = django_filters.CharFilter(method="by_handle", label="A handle or profile URL (with `platform`).")
    platform = django_filters.ChoiceFilter(choices=Platform.choices, field_name="accounts__platform", distinct=True)
    tag = django_filters.CharFilter(field_name="tags__name", lookup_expr="iexact", distinct=True)
    q = django_filters.CharFilter(method="search", label="Search names, emails and handles.")
    owner = django_filters.NumberFilter(field_name="owner_id")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Creator
        fields = ["status", "country", "language"]

    def by_handle(self, queryset, name, value):
        platform = self.data.get("platform")
        if platform:
            try:
                value = normalize_handle(platform, value)
            except InvalidHandle:
                return queryset.none()
            return queryset.filter(accounts__platform=platform, accounts__handle=value).distinct()
        return queryset.filter(accounts__handle=value.lstrip("@").lower()).distinct()

    def search(self, queryset, name, value):
        from django.db.models import Q

        return queryset.filter(
            Q(name__icontains=value) | Q(email__icontains=value) | Q(accounts__handle__icontains=value.lstrip("@"))
        ).distinct()


class SocialAccountFilter(django_filters.FilterSet):
    class Meta:
        model = SocialAccount
        fields = ["platform", "creator", "handle", "platform_user_id"]


class TagFilter(django_filters.FilterSet):
    class Meta:
        model = Tag
        fields = {"name": ["exact", "icontains"]}


class CampaignFilter(django_filters.FilterSet):
    starts_after = django_filters.DateFilter(field_name="starts_on", lookup_expr="gte")

    class Meta:
        model = Campaign
        fields = ["status", "brand", "owner"]


class ContentFilter(django_filters.FilterSet):
    url = django_filters.CharFilter(method="by_url", label="The post's URL, in any form it was copied.")

    class Meta:
        model = Content
        fields = ["platform", "creator", "campaign"]

    def by_url(self, queryset, name, value):
        try:
            return queryset.filter(url=normalize_content_url(value))
        except ValueError:
            return queryset.none()


class PermissionRequestFilter(django_filters.FilterSet):
    content_url = django_filters.CharFilter(method="by_content_url", label="The post's URL, in any form.")
    expires_before = django_filters.IsoDateTimeFilter(field_name="rights_expire_at", lookup_expr="lte")

    class Meta:
        model = PermissionRequest
        fields = ["status", "campaign", "creator", "content"]

    def by_content_url(self, queryset, name, value):
        try:
            return queryset.filter(content__url=normalize_content_url(value))
        except ValueError:
            return queryset.none()


class ConsentEventFilter(django_filters.FilterSet):
    since = django_filters.IsoDateTimeFilter(field_name="recorded_at", lookup_expr="gte")

    class Meta:
        model = ConsentEvent
        fields = ["kind", "creator", "permission_request"]
