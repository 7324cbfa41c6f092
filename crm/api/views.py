"""Thin read-only viewsets over the CRM's data; filters live in crm/filtersets.py, rules in services."""

from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from crm import filtersets, services
from crm.api import serializers
from crm.models import Campaign, ConsentEvent, Content, Creator, PermissionRequest, Role, SocialAccount, Tag, role_of


def visible_campaigns(user):
    """Admins see every campaign; others those they own or are on the team of."""
    return Campaign.objects.visible_to(user)


class CreatorViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Creators with their accounts on every platform; `?handle=&platform=` finds one by handle or URL.
    Create one with its accounts (handles or profile URLs); send `Idempotency-Key` to retry safely."""

    queryset = Creator.objects.select_related("owner").prefetch_related("accounts", "tags")
    serializer_class = serializers.CreatorSerializer
    filterset_class = filtersets.CreatorFilter

    @extend_schema(request=serializers.CreatorCreateSerializer, responses={201: serializers.CreatorSerializer})
    def create(self, request, *args, **kwargs):
        incoming = serializers.CreatorCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            creator = services.create_creator(actor=request.user, **incoming.validated_data)
        except services.InvalidInput as error:
            raise ValidationError(error.errors) from None
        creator = self.get_queryset().get(pk=creator.pk)
        return Response(serializers.CreatorSerializer(creator).data, status=status.HTTP_201_CREATED)


class SocialAccountViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = SocialAccount.objects.all()
    serializer_class = serializers.SocialAccountSerializer
    filterset_class = filtersets.SocialAccountFilter


class TagViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Tag.objects.all()
    serializer_class = serializers.TagSerializer
    filterset_class = filtersets.TagFilter


class CampaignViewSet(viewsets.ReadOnlyModelViewSet):
    """Campaigns you own or are on the team of (admins: all); others' are not found (404)."""

    queryset = Campaign.objects.none()  # the real one depends on who asks: get_queryset
    serializer_class = serializers.CampaignSerializer
    filterset_class = filtersets.CampaignFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Campaign.objects.none()
        return visible_campaigns(self.request.user).prefetch_related("team")


class ContentViewSet(viewsets.ReadOnlyModelViewSet):
    """Posts; `?url=` answers whether a post is known, however its link was copied."""

    queryset = Content.objects.all()
    serializer_class = serializers.ContentSerializer
    filterset_class = filtersets.ContentFilter


class PermissionRequestViewSet(viewsets.ReadOnlyModelViewSet):
    """May this post be reused, where and until when? `?content_url=…&status=granted`."""

    queryset = PermissionRequest.objects.none()  # the real one depends on who asks: get_queryset
    serializer_class = serializers.PermissionRequestSerializer
    filterset_class = filtersets.PermissionRequestFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PermissionRequest.objects.none()
        queryset = PermissionRequest.objects.select_related("content")
        if role_of(self.request.user) == Role.ADMIN:
            return queryset
        return queryset.filter(Q(campaign__isnull=True) | Q(campaign__in=visible_campaigns(self.request.user)))


class ConsentEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The consent ledger, read only: every decision with its evidence hashes."""

    queryset = ConsentEvent.objects.all()
    serializer_class = serializers.ConsentEventSerializer
    filterset_class = filtersets.ConsentEventFilter
