"""Filters shared by the API and (later) the pages: one definition per list."""

import django_filters
from django import forms
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django_filters.filterset import FILTER_FOR_DBFIELD_DEFAULTS
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from crm import access
from crm import search as search_text
from crm.handles import InvalidHandle, normalize_content_url, normalize_handle, platform_of_url
from crm.models import (
    Campaign,
    CampaignMember,
    ColumnMapping,
    ConsentEvent,
    Content,
    Creator,
    PermissionRequest,
    Platform,
    SocialAccount,
    Tag,
)


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """A related row by its id. An unknown id matches nothing, as any filter value may, rather than a
    400 that would tell which ids exist (another team's campaigns, say)."""

    field_class = forms.IntegerField

    def filter(self, qs, value):
        if value is not None and not -(2**63) <= value < 2**63:  # no row has it; SQLite cannot even take it
            return qs.none()
        return super().filter(qs, value)


class FilterSet(django_filters.FilterSet):
    """Foreign keys in `Meta.fields` filter by id with IdFilter. (The API's strictness about empty and
    malformed values is crm/api/filters.py, for every app's filtersets.)"""

    FILTER_DEFAULTS = {
        **FILTER_FOR_DBFIELD_DEFAULTS,
        models.ForeignKey: {"filter_class": IdFilter},
        models.OneToOneField: {"filter_class": IdFilter},
    }


class CreatorFilter(FilterSet):
    """Creators by handle, platform, tag, country, follower range, campaign stage and consent.

    Conditions on related rows are EXISTS subqueries, not joins, so no DISTINCT is needed and a page
    of 100,000 creators stays fast (pages and API alike).
    """

    class Consent(models.TextChoices):
        CONTACTABLE = "contactable", "May be contacted"
        OPTED_OUT = "opted_out", "Opted out"
        CONTACT_ALLOWED = "contact_allowed", "Allowed contact"
        RIGHTS_GRANTED = "rights_granted", "Granted rights"

    handle = django_filters.CharFilter(method="by_handle", label="A handle or profile URL (with `platform`).")
    platform = django_filters.ChoiceFilter(choices=Platform.choices, method="by_platform")
    tag = django_filters.CharFilter(method="by_tag", label="A tag's name (any case).")
    q = django_filters.CharFilter(method="search", label="Search names, emails and handles.")
    owner = IdFilter(field_name="owner_id")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    followers_min = django_filters.NumberFilter(
        method="by_followers", min_value=0, label="At least this many followers on one account (on `platform`)."
    )
    followers_max = django_filters.NumberFilter(
        method="by_followers", min_value=0, label="At most this many followers on one account (on `platform`)."
    )
    campaign = IdFilter(method="by_membership", label="Member of this campaign (id).")
    stage = django_filters.ChoiceFilter(
        choices=CampaignMember.Stage.choices, method="by_membership", label="At this stage in a campaign."
    )
    consent = django_filters.ChoiceFilter(choices=Consent.choices, method="by_consent", label="Consent status.")

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
            return queryset.filter(Exists(_accounts().filter(platform=platform, handle=value)))
        return queryset.filter(Exists(_accounts().filter(handle=value.lstrip("@").lower())))

    def by_platform(self, queryset, name, value):
        return queryset.filter(Exists(_accounts().filter(platform=value)))

    def by_tag(self, queryset, name, value):
        tagged = Creator.tags.through.objects.filter(creator_id=OuterRef("pk"), tag__name__iexact=value.strip())
        return queryset.filter(Exists(tagged))

    def search(self, queryset, name, value):
        """Names and emails ignoring case and accents ("muller" finds "Müller", crm/search.py), handles;
        a pasted profile link finds the creator whose account it is."""
        value = value.strip()
        platform = platform_of_url(value) if "/" in value else None
        if platform:
            try:
                handle = normalize_handle(platform, value)
            except InvalidHandle:
                handle = ""
            if handle:
                return queryset.filter(Exists(_accounts().filter(platform=platform, handle=handle)))
        # One UNION of three indexed lookups (trigram indexes, migration 0011): an OR across the creator
        # and its accounts would scan every creator.
        names = Creator.objects.filter(search_text.folded_contains("name", value)).order_by().values("pk")
        emails = Creator.objects.filter(search_text.folded_contains("email", value)).order_by().values("pk")
        handles = SocialAccount.objects.filter(search_text.folded_contains("handle", value.lstrip("@")))
        return queryset.filter(pk__in=names.union(emails, handles.order_by().values("creator_id")))

    def by_followers(self, queryset, name, value):
        """Both bounds apply to the same account, so min and max together mean one account in range."""
        if name == "followers_max" and self.form.cleaned_data.get("followers_min") is not None:
            return queryset  # already applied with the minimum
        accounts = _accounts()
        low, high = self.form.cleaned_data.get("followers_min"), self.form.cleaned_data.get("followers_max")
        if low is not None:
            accounts = accounts.filter(follower_count__gte=low)
        if high is not None:
            accounts = accounts.filter(follower_count__lte=high)
        if self.form.cleaned_data.get("platform"):
            accounts = accounts.filter(platform=self.form.cleaned_data["platform"])
        return queryset.filter(Exists(accounts))

    def _visible(self, queryset):
        """Conditions on campaign-scoped rows look only at those the caller may see (crm/access.py):
        filtering by another team's campaign, stage or rights must not reveal them."""
        return access.visible(queryset, getattr(self.request, "user", None))

    def by_membership(self, queryset, name, value):
        """`campaign` and `stage` together mean: at that stage in that campaign (one the caller sees)."""
        if name == "stage" and self.form.cleaned_data.get("campaign") is not None:
            return queryset  # already applied with the campaign
        members = self._visible(CampaignMember.objects.filter(creator_id=OuterRef("pk")))
        if self.form.cleaned_data.get("campaign") is not None:
            members = members.filter(campaign_id=self.form.cleaned_data["campaign"])
        if self.form.cleaned_data.get("stage"):
            members = members.filter(stage=self.form.cleaned_data["stage"])
        return queryset.filter(Exists(members))

    def by_consent(self, queryset, name, value):
        if value == self.Consent.CONTACTABLE:
            return queryset.contactable()
        if value == self.Consent.OPTED_OUT:
            return queryset.filter(opted_out_at__isnull=False)
        if value == self.Consent.CONTACT_ALLOWED:
            return queryset.filter(contact_allowed_at__isnull=False)
        granted = self._visible(
            PermissionRequest.objects.filter(creator_id=OuterRef("pk"), status=PermissionRequest.Status.GRANTED)
        )
        return queryset.filter(Exists(granted))


def _accounts():
    return SocialAccount.objects.filter(creator_id=OuterRef("pk"))


class SocialAccountFilter(FilterSet):
    class Meta:
        model = SocialAccount
        fields = ["platform", "creator", "handle", "platform_user_id"]


class ColumnMappingFilter(FilterSet):
    class Meta:
        model = ColumnMapping
        fields = {"name": ["exact", "icontains"], "for_team": ["exact"], "owner": ["exact"]}


class TagFilter(FilterSet):
    class Meta:
        model = Tag
        fields = {"name": ["exact", "icontains"]}


class CampaignFilter(FilterSet):
    starts_after = django_filters.DateFilter(field_name="starts_on", lookup_expr="gte")
    q = django_filters.CharFilter(method="search", label="Search names and brands.")

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(brand__icontains=value))

    class Meta:
        model = Campaign
        fields = ["status", "brand", "owner"]


class ContentFilter(FilterSet):
    url = django_filters.CharFilter(method="by_url", label="The post's URL, in any form it was copied.")

    class Meta:
        model = Content
        fields = ["platform", "creator", "campaign"]

    def by_url(self, queryset, name, value):
        try:
            return queryset.filter(url=normalize_content_url(value))
        except ValueError:
            return queryset.none()


class PermissionRequestFilter(FilterSet):
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


class ConsentEventFilter(FilterSet):
    since = django_filters.IsoDateTimeFilter(field_name="recorded_at", lookup_expr="gte")

    class Meta:
        model = ConsentEvent
        fields = ["kind", "creator", "permission_request"]
