"""The API of comments, mentions and UGC: a comments inbox per post (reply publicly, reply
privately, hide, ask for rights), the discovered content, rights requests asked in comments, the
keyword rules and the hashtag budget. Thin: every rule is in outreach/services/comments.py and ugc.py."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.api.base import ScopedViewSetMixin, valid
from crm.api.serializers import WorkableCampaignField
from crm.models import UsageChannel
from crm.services.rights import MAX_DURATION_DAYS, Scope
from outreach.models import (
    BrandPost,
    Comment,
    CommentRightsRequest,
    DiscoveredMedia,
    HashtagSearch,
    KeywordRule,
    PrivateReply,
    SenderAccount,
)
from outreach.services import comments as comment_services
from outreach.services import ugc

# --- serializers ---------------------------------------------------------------------------------


class BrandPostSerializer(serializers.ModelSerializer):
    comment_count = serializers.SerializerMethodField()

    class Meta:
        model = BrandPost
        fields = ["id", "platform", "sender_account", "media_id", "media_product_type", "live", "live_ended_at",
                  "permalink", "caption", "created_at", "comment_count"]  # fmt: skip
        read_only_fields = fields

    def get_comment_count(self, post) -> int:
        return post.comments.count()


class PrivateReplySerializer(serializers.ModelSerializer):
    class Meta:
        model = PrivateReply
        fields = ["id", "comment", "sender_account", "creator", "text", "automatic", "keyword_rule", "status",
                  "provider_message_id", "error_code", "error_message", "sent_at", "created_at"]  # fmt: skip
        read_only_fields = fields


class CommentSerializer(serializers.ModelSerializer):
    private_reply_allowed = serializers.SerializerMethodField(help_text="Empty when allowed, else why not.")

    class Meta:
        model = Comment
        fields = ["id", "platform", "comment_id", "source", "post", "sender_account", "media_id", "parent_id",
                  "from_id", "from_username", "creator", "text", "created_time", "live", "hidden", "removed", "ours",
                  "public_reply_id", "reply_used_at", "received_at", "private_reply_allowed"]  # fmt: skip
        read_only_fields = fields

    def get_private_reply_allowed(self, comment) -> str:
        return comment_services.private_reply_problem(comment)


class DiscoveredMediaSerializer(serializers.ModelSerializer):
    may_comment_by_api = serializers.BooleanField(read_only=True)

    class Meta:
        model = DiscoveredMedia
        fields = ["id", "platform", "sender_account", "media_id", "source", "mention_comment_id", "hashtag",
                  "username", "permalink", "caption", "media_type", "media_url", "thumbnail_url", "posted_at",
                  "fetched_at", "fetch_error", "creator", "content", "discovered_at", "may_comment_by_api"]  # fmt: skip
        read_only_fields = fields


class CommentRightsRequestSerializer(serializers.ModelSerializer):
    open_url = serializers.CharField(source="discovered.permalink", read_only=True)

    class Meta:
        model = CommentRightsRequest
        fields = ["id", "permission_request", "discovered", "via_comment", "sender_account", "method",
                  "author_username", "text", "variant", "status", "due_at", "provider_comment_id", "error_code",
                  "error_message", "sent_at", "created_at", "open_url"]  # fmt: skip
        read_only_fields = fields


class KeywordRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = KeywordRule
        fields = ["id", "sender_account", "post", "keyword", "template", "active", "created_at"]
        read_only_fields = ["id", "created_at"]


class HashtagSearchSerializer(serializers.ModelSerializer):
    class Meta:
        model = HashtagSearch
        fields = ["id", "sender_account", "hashtag", "hashtag_id", "first_queried_at", "last_polled_at", "active"]
        read_only_fields = ["id", "hashtag_id", "first_queried_at", "last_polled_at", "active"]


class TextSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2200)


class HideSerializer(serializers.Serializer):
    hide = serializers.BooleanField(default=True)


class RightsByCommentSerializer(serializers.Serializer):
    """Ask the post's author for rights in a comment (by API for mentions and our posts, by a person otherwise)."""

    channels = serializers.ListField(child=serializers.ChoiceField(choices=UsageChannel.choices), allow_empty=False)
    territory = serializers.CharField(max_length=200, default="worldwide")
    exclusive = serializers.BooleanField(default=False)
    duration_days = serializers.IntegerField(min_value=1, max_value=MAX_DURATION_DAYS, required=False, allow_null=True)
    terms_url = serializers.URLField(max_length=500)
    terms_text = serializers.CharField()
    approval_hashtag = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    campaign = WorkableCampaignField(required=False, allow_null=True)
    brand = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    author_username = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", help_text="For hashtag finds (no username)."
    )


class RightsUnderCommentSerializer(RightsByCommentSerializer):
    discovered = serializers.PrimaryKeyRelatedField(
        queryset=DiscoveredMedia.objects.all(), help_text="The commenter's post we found and want to use."
    )


class FoundByLinkSerializer(serializers.Serializer):
    """A post a person found (TikTok has no discovery API we can use): its link and its author."""

    sender_account = serializers.PrimaryKeyRelatedField(queryset=SenderAccount.objects.all())
    permalink = serializers.URLField(max_length=500)
    username = serializers.CharField(max_length=100)


class BudgetSerializer(serializers.Serializer):
    used = serializers.IntegerField()
    remaining = serializers.IntegerField()
    limit = serializers.IntegerField()
    hashtags = serializers.ListField(child=serializers.DictField())


# --- viewsets ------------------------------------------------------------------------------------


class BrandPostViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The brand's posts that have comments; `comments/` lists one post's thread (the comments inbox)."""

    queryset = BrandPost.objects.all()
    serializer_class = BrandPostSerializer
    filterset_fields = ["platform", "sender_account", "live"]
    ordering_fields = ["id", "created_at"]

    @extend_schema(responses={200: CommentSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def comments(self, request, pk=None):
        post = self.get_object()
        return Response(CommentSerializer(post.comments.order_by("created_time", "id"), many=True).data)

    @extend_schema(request=None, responses={200: BrandPostSerializer})
    @action(detail=True, methods=["post"], url_path="live-ended")
    def live_ended(self, request, pk=None):
        """The Live is over: its comments may no longer get private replies."""
        post = self.get_object()
        BrandPost.objects.filter(pk=post.pk, live_ended_at__isnull=True).update(live_ended_at=timezone.now())
        post.refresh_from_db()
        return Response(self.get_serializer(post).data)


class CommentViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Comments on our posts and mentions of us. Actions: `private-reply/` (one DM, within 7 days),
    `reply/` (public), `hide/`, `request-rights/` (ask the commenter for rights to their post)."""

    queryset = Comment.objects.select_related("post")
    serializer_class = CommentSerializer
    filterset_fields = ["post", "source", "platform", "creator", "live", "hidden", "ours"]
    ordering_fields = ["id", "created_time"]

    @extend_schema(request=TextSerializer, responses={201: PrivateReplySerializer})
    @action(detail=True, methods=["post"], url_path="private-reply")
    def private_reply(self, request, pk=None):
        """Answer the comment with one DM: refused (400, no platform call) when it already had one,
        is over 7 days old or was made on a Live that ended. It opens no messaging window."""
        data = valid(TextSerializer, request.data)
        reply = comment_services.send_private_reply(self.get_object(), text=data["text"], actor=request.user)
        reply.refresh_from_db()
        return Response(PrivateReplySerializer(reply).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=TextSerializer, responses={201: CommentSerializer})
    @action(detail=True, methods=["post"])
    def reply(self, request, pk=None):
        """A public reply under the comment (our posts only; not on a Live, not when hidden)."""
        data = valid(TextSerializer, request.data)
        reply = comment_services.reply_publicly(self.get_object(), text=data["text"], actor=request.user)
        return Response(CommentSerializer(reply).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=HideSerializer, responses={200: CommentSerializer})
    @action(detail=True, methods=["post"])
    def hide(self, request, pk=None):
        data = valid(HideSerializer, request.data)
        comment = comment_services.hide_comment(self.get_object(), hide=data["hide"], actor=request.user)
        return Response(CommentSerializer(comment).data)

    @extend_schema(request=RightsUnderCommentSerializer, responses={201: CommentRightsRequestSerializer})
    @action(detail=True, methods=["post"], url_path="request-rights")
    def request_rights(self, request, pk=None):
        """Ask the commenter, in a public reply under their comment on our post, for the rights to a
        post of theirs we found (`discovered`): how to reach the author of a tag or hashtag find by API."""
        comment = self.get_object()
        data = valid(RightsUnderCommentSerializer, request.data, context={"request": request})
        return _ask(data.pop("discovered"), data, request.user, via_comment=comment)


def _ask(found, data, actor, via_comment=None):
    scope = Scope(
        channels=data.pop("channels"),
        territory=data.pop("territory"),
        exclusive=data.pop("exclusive"),
        duration_days=data.pop("duration_days", None),
    )
    asked = ugc.request_rights_by_comment(found, actor=actor, scope=scope, via_comment=via_comment, **data)
    asked.refresh_from_db()
    return Response(CommentRightsRequestSerializer(asked).data, status=status.HTTP_201_CREATED)


class DiscoveredMediaViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """UGC found by mention, tag or hashtag; `request-rights/` asks the author in a comment (through
    the API for mentions, as a task for a person for tags and hashtag finds)."""

    queryset = DiscoveredMedia.objects.all()
    serializer_class = DiscoveredMediaSerializer
    filterset_fields = ["source", "sender_account", "creator", "hashtag"]
    ordering_fields = ["id", "discovered_at", "posted_at"]

    @extend_schema(request=RightsByCommentSerializer, responses={201: CommentRightsRequestSerializer})
    @action(detail=True, methods=["post"], url_path="request-rights")
    def request_rights(self, request, pk=None):
        data = valid(RightsByCommentSerializer, request.data, context={"request": request})
        return _ask(self.get_object(), data, request.user)

    @extend_schema(request=FoundByLinkSerializer, responses={201: DiscoveredMediaSerializer})
    @action(detail=False, methods=["post"], url_path="by-link", filter_backends=[], pagination_class=None)
    def by_link(self, request):
        """Add a post found by hand (e.g. a creator's TikTok video) by its link and author, to ask for its
        rights under the author's comment on one of our posts (or by a person)."""
        data = valid(FoundByLinkSerializer, request.data)
        found = ugc.discover_by_link(data["sender_account"], data["permalink"], data["username"])
        return Response(DiscoveredMediaSerializer(found).data, status=status.HTTP_201_CREATED)


class CommentRightsRequestViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Rights requests asked in comments; `mark-posted/` when a person posted one by hand."""

    queryset = CommentRightsRequest.objects.select_related("discovered")
    serializer_class = CommentRightsRequestSerializer
    filterset_fields = ["status", "method", "sender_account"]
    ordering_fields = ["id", "due_at", "created_at"]

    @extend_schema(request=None, responses={200: CommentRightsRequestSerializer})
    @action(detail=True, methods=["post"], url_path="mark-posted")
    def mark_posted(self, request, pk=None):
        asked = ugc.mark_comment_request_posted(self.get_object(), actor=request.user)
        return Response(self.get_serializer(asked).data)


class KeywordRuleViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    """Comment keyword -> one automatic private reply per commenter (a person always follows up)."""

    queryset = KeywordRule.objects.all()
    serializer_class = KeywordRuleSerializer
    filterset_fields = ["sender_account", "post", "active"]
    ordering_fields = ["id", "keyword"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = comment_services.save_keyword_rule(
            actor=self.request.user,
            sender_account=data["sender_account"],
            keyword=data["keyword"],
            template=data["template"],
            post=data.get("post"),
        )


class HashtagSearchViewSet(ScopedViewSetMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Followed hashtags: creating one spends one of the account's 30 unique hashtags per 7 days
    (refused when none is left); `budget/?sender_account=` shows what remains."""

    queryset = HashtagSearch.objects.all()
    serializer_class = HashtagSearchSerializer
    filterset_fields = ["sender_account", "active"]
    ordering_fields = ["id", "hashtag"]

    def create(self, request, *args, **kwargs):
        data = valid(HashtagSearchSerializer, request.data)
        search = ugc.search_hashtag(data["sender_account"], data["hashtag"], actor=request.user)
        return Response(self.get_serializer(search).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        parameters=[OpenApiParameter("sender_account", OpenApiTypes.INT, required=True)],
        responses={200: BudgetSerializer, 400: OpenApiTypes.OBJECT},
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def budget(self, request):
        wanted = request.query_params.get("sender_account", "")
        sender = SenderAccount.objects.filter(pk=int(wanted)).first() if wanted.isdigit() else None
        if sender is None:
            return Response({"sender_account": ["Give ?sender_account=<id>."]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(BudgetSerializer(ugc.hashtag_budget(sender)).data)
