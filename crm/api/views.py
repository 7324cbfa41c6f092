"""Thin viewsets over the CRM's data: filters live in crm/filtersets.py, rules in crm/services.py.

Who sees and changes what is crm/access.py's rule, applied once by `ScopedViewSetMixin`: another
team's campaign, and what hangs off it, is not found (404) rather than refused.
"""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from crm import filtersets, services
from crm.api import serializers
from crm.api.base import ScopedViewSetMixin, valid
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
)
from crm.services import column_mappings, usage

CREATOR_EXAMPLE = OpenApiExample(
    "A creator with two accounts",
    value={
        "name": "Maya Hart",
        "email": "maya@example.com",
        "country": "GB",
        "tags": ["beauty"],
        "accounts": [
            {"platform": "instagram", "handle": "https://www.instagram.com/mayahart/"},
            {"platform": "tiktok", "handle": "@maya.hart", "follower_count": 120000},
        ],
    },
    request_only=True,
)


class CreatorViewSet(
    ScopedViewSetMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet
):
    """Creators with their accounts on every platform; `?handle=&platform=` finds one by handle or URL,
    `?q=` searches names, emails and handles. Create one with its accounts (handles or profile URLs);
    send `Idempotency-Key` to retry safely."""

    queryset = Creator.objects.select_related("owner").prefetch_related("accounts", "tags")
    serializer_class = serializers.CreatorSerializer
    filterset_class = filtersets.CreatorFilter
    ordering_fields = ["id", "name", "created_at", "updated_at"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action != "list":
            return queryset
        # The busiest answer: only the columns shown; accounts and tags come per page in
        # paginate_queryset (see bench/api_list.py).
        return (
            queryset.select_related(None).prefetch_related(None).defer("notes", "erased_handle_hashes", "ledger_head")
        )

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page and self.action == "list":
            serializers.CreatorSerializer.load_relations(page)
        return page

    @extend_schema(
        request=serializers.CreatorCreateSerializer,
        responses={201: serializers.CreatorSerializer},
        examples=[CREATOR_EXAMPLE],
    )
    def create(self, request, *args, **kwargs):
        data = valid(serializers.CreatorCreateSerializer, request.data)
        creator = services.create_creator(actor=request.user, **data)
        return Response(self._fresh(creator).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.CreatorUpdateSerializer, responses={200: serializers.CreatorSerializer})
    def partial_update(self, request, *args, **kwargs):
        creator = self.get_object()
        data = valid(serializers.CreatorUpdateSerializer, request.data)
        services.update_creator(creator, actor=request.user, **data)
        return Response(self._fresh(creator).data)

    @extend_schema(request=serializers.CreatorMergeSerializer, responses={200: serializers.CreatorSerializer})
    @action(detail=True, methods=["post"], url_path="merge", filter_backends=[])
    def merge(self, request, pk=None):
        """Merge this record (a prospect) into the creator it is: accounts, conversations, requests
        and memberships move; its consent ledger stays on this record, found through `merged_into`."""
        data = valid(serializers.CreatorMergeSerializer, request.data)
        into = services.merge_creators(self.get_object(), data["into"], actor=request.user)
        return Response(self._fresh(into).data)

    def _fresh(self, creator):
        return serializers.CreatorSerializer(self.get_queryset().get(pk=creator.pk))


class SocialAccountViewSet(ScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """A creator's accounts; add one by handle or profile URL. Platform ids are learnt from the
    platforms' webhooks and cannot be set here."""

    queryset = SocialAccount.objects.all()
    serializer_class = serializers.SocialAccountSerializer
    filterset_class = filtersets.SocialAccountFilter
    ordering_fields = ["id", "handle", "follower_count", "created_at"]

    @extend_schema(
        request=serializers.SocialAccountCreateSerializer, responses={201: serializers.SocialAccountSerializer}
    )
    def create(self, request, *args, **kwargs):
        data = valid(serializers.SocialAccountCreateSerializer, request.data)
        creator = data.pop("creator")
        account = services.add_social_account(creator, actor=request.user, **data)
        return Response(serializers.SocialAccountSerializer(account).data, status=status.HTTP_201_CREATED)


class TagViewSet(ScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Tags to sort creators by (`?name__icontains=`)."""

    queryset = Tag.objects.all()
    serializer_class = serializers.TagSerializer
    filterset_class = filtersets.TagFilter
    ordering_fields = ["id", "name"]

    @extend_schema(request=serializers.TagCreateSerializer, responses={201: serializers.TagSerializer})
    def create(self, request, *args, **kwargs):
        data = valid(serializers.TagCreateSerializer, request.data)
        tag = services.create_tag(data["name"])
        return Response(serializers.TagSerializer(tag).data, status=status.HTTP_201_CREATED)


class CampaignViewSet(
    ScopedViewSetMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet
):
    """Campaigns you own or are on the team of (admins: all); others' are not found (404).
    You own the campaigns you create; the owner and your teammates may change them and their members."""

    queryset = Campaign.objects.all()
    serializer_class = serializers.CampaignSerializer
    filterset_class = filtersets.CampaignFilter
    ordering_fields = ["id", "name", "brand", "starts_on", "ends_on", "created_at"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return super().get_queryset().prefetch_related("team")

    @extend_schema(
        request=serializers.CampaignWriteSerializer,
        responses={201: serializers.CampaignSerializer},
        examples=[
            OpenApiExample(
                "A campaign with its hashtag",
                value={
                    "name": "Summer Glow",
                    "brand": "Acme",
                    "status": "active",
                    "approval_hashtag": "#YesAcme",
                    "terms_url": "https://acme.example/ugc-terms",
                    "terms_version": "2026-05",
                    "team": [2],
                },
                request_only=True,
            )
        ],
    )
    def create(self, request, *args, **kwargs):
        data = valid(serializers.CampaignWriteSerializer, request.data)
        campaign = services.create_campaign(actor=request.user, **data)
        return Response(self._fresh(campaign).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.CampaignWriteSerializer, responses={200: serializers.CampaignSerializer})
    def partial_update(self, request, *args, **kwargs):
        campaign = self.get_object()
        data = valid(serializers.CampaignWriteSerializer, request.data, partial=True)
        services.update_campaign(campaign, actor=request.user, **data)
        return Response(self._fresh(campaign).data)

    def _fresh(self, campaign):
        return serializers.CampaignSerializer(Campaign.objects.prefetch_related("team").get(pk=campaign.pk))

    @extend_schema(
        methods=["GET"],
        responses={200: serializers.CampaignMemberSerializer(many=True)},
        description="The campaign's members with their stage (`?stage=`).",
        parameters=[OpenApiParameter("stage", enum=CampaignMember.Stage.values, description="Only this stage.")],
    )
    @extend_schema(
        methods=["POST"],
        request=serializers.AddMembersSerializer,
        responses={200: serializers.AddMembersResultSerializer},
        description="Add creators as prospects; those already in the campaign are left as they are.",
    )
    @action(detail=True, methods=["get", "post"], url_path="members", filter_backends=[])
    def members(self, request, pk=None):
        """GET: the members with their stage (`?stage=`). POST: add creators as prospects."""
        campaign = self.get_object()
        if request.method == "POST":
            data = valid(serializers.AddMembersSerializer, request.data)
            wanted = set(data["creators"])
            found = set(Creator.objects.filter(pk__in=wanted, erased_at__isnull=True).values_list("pk", flat=True))
            if wanted - found:
                unknown = ", ".join(map(str, sorted(wanted - found)))
                raise ValidationError({"creators": [f"No creator has the id(s) {unknown}."]})
            added = services.add_to_campaign(campaign, sorted(found), actor=request.user, assignee=data.get("assignee"))
            return Response({"added": added})
        members = campaign.members.select_related("creator").order_by("id")
        stage = request.query_params.get("stage")
        if stage:
            if stage not in CampaignMember.Stage.values:
                raise ValidationError({"stage": [f"Choose one of {', '.join(CampaignMember.Stage.values)}."]})
            members = members.filter(stage=stage)
        page = self.paginate_queryset(members)
        return self.get_paginated_response(serializers.CampaignMemberSerializer(page, many=True).data)

    @extend_schema(
        request=serializers.MemberUpdateSerializer,
        responses={200: serializers.CampaignMemberSerializer},
        description="Move a member to another stage, or assign them to a teammate.",
    )
    @action(detail=True, methods=["patch"], url_path=r"members/(?P<member_id>\d+)", filter_backends=[])
    def member(self, request, pk=None, member_id=None):
        """Move a member to another stage, or assign them to a teammate."""
        campaign = self.get_object()
        member = get_object_or_404(CampaignMember.objects.select_related("creator"), campaign=campaign, pk=member_id)
        data = valid(serializers.MemberUpdateSerializer, request.data)
        services.update_member(member, actor=request.user, **data)
        return Response(serializers.CampaignMemberSerializer(member).data)


class ContentViewSet(ScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Posts; `?url=` answers whether a post is known, however its link was copied. Register one by
    its link; the platform is read from it."""

    queryset = Content.objects.all()
    serializer_class = serializers.ContentSerializer
    filterset_class = filtersets.ContentFilter
    ordering_fields = ["id", "posted_at", "created_at"]

    @extend_schema(request=serializers.ContentCreateSerializer, responses={201: serializers.ContentSerializer})
    def create(self, request, *args, **kwargs):
        data = valid(serializers.ContentCreateSerializer, request.data, context={"request": request})
        content = services.add_content(data.pop("creator"), actor=request.user, **data)
        return Response(serializers.ContentSerializer(content).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[serializers.MayUseQuerySerializer],
        responses={200: serializers.MayUseAnswerSerializer},
        summary="May this post be used on a channel, in a country, on a date?",
        description="One answer with its reason, e.g. `No: Germany is outside GB, IE, US (request #12).` "
        "An unknown link, channel or country is a 400 naming the field.",
    )
    @action(detail=False, methods=["get"], url_path="may-use", filter_backends=[], pagination_class=None)
    def may_use(self, request):
        query = valid(serializers.MayUseQuerySerializer, request.query_params)
        asked = usage.ask_by_link(
            query["url"], query["channel"], query["territory"], query.get("date"), posts=self.get_queryset()
        )
        answer = asked.answer
        body = {
            "may_use": answer.yes,
            "reason": answer.reason,
            "permission_request": answer.request.pk if answer.request else None,
            "content": asked.post.pk,
            "content_url": asked.post.url,
            "channel": asked.channel,
            "territory": asked.country,
            "date": asked.on_date,
        }
        return Response(serializers.MayUseAnswerSerializer(body).data)


class PermissionRequestViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """May this post be reused, where and until when? `?content_url=…&status=granted`."""

    queryset = PermissionRequest.objects.select_related("content")
    serializer_class = serializers.PermissionRequestSerializer
    filterset_class = filtersets.PermissionRequestFilter
    ordering_fields = ["id", "requested_at", "decided_at", "rights_expire_at", "created_at"]


class ConsentEventViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The consent ledger, read only: every decision with its evidence hashes. Creators' contact
    choices (opt-outs) are everyone's to see; rights decisions follow their request's campaign."""

    queryset = ConsentEvent.objects.prefetch_related(Prefetch("voided_by", to_attr="corrections"))
    serializer_class = serializers.ConsentEventSerializer
    filterset_class = filtersets.ConsentEventFilter
    ordering_fields = ["id", "occurred_at", "recorded_at"]


MAPPING_EXAMPLE = OpenApiExample(
    "An agency's monthly export",
    value={
        "name": "Agency export",
        "for_team": True,
        "columns": [
            {"header": "Full name", "field": "name"},
            {"header": "IG", "field": "instagram"},
            {"header": "Followers", "field": "instagram_followers"},
            {"header": "Shoe size", "field": ""},
        ],
    },
    request_only=True,
)


@extend_schema_view(
    create=extend_schema(
        request=serializers.ColumnMappingWriteSerializer,
        responses={201: serializers.ColumnMappingSerializer},
        examples=[MAPPING_EXAMPLE],
    ),
    update=extend_schema(
        request=serializers.ColumnMappingWriteSerializer, responses={200: serializers.ColumnMappingSerializer}
    ),
    partial_update=extend_schema(
        request=serializers.ColumnMappingWriteSerializer(partial=True),
        responses={200: serializers.ColumnMappingSerializer},
    ),
)
class ColumnMappingViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    """Saved column mappings of the creator import: how a spreadsheet's headers match the import's
    fields, offered again in the import page for a file with the same headers (in any order). Yours
    and the team's (`for_team`); someone's private one is not found. Each column's `field` is one of
    the import's fields or empty (ignored); the mapping needs a `name` column and an `email` or a
    handle column, and a header only once. Its owner or any manager changes a team one; only its
    owner makes it private or the team's."""

    queryset = ColumnMapping.objects.all()
    serializer_class = serializers.ColumnMappingSerializer
    filterset_class = filtersets.ColumnMappingFilter
    ordering_fields = ["id", "name", "updated_at"]

    def create(self, request, *args, **kwargs):
        data = valid(serializers.ColumnMappingWriteSerializer, request.data)
        saved = column_mappings.create_mapping(actor=request.user, **data)
        return Response(self.get_serializer(saved).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, partial=False, **kwargs):
        saved = self.get_object()
        data = valid(serializers.ColumnMappingWriteSerializer, request.data, partial=partial)
        column_mappings.update_mapping(saved, actor=request.user, **data)
        return Response(self.get_serializer(saved).data)

    def perform_destroy(self, instance):
        column_mappings.delete_mapping(instance, actor=self.request.user)
