"""Thin viewsets over outreach: templates, sequences, sender accounts, the outbox and its actions,
conversations, and the CRM resources that outreach extends (launching a campaign, sending a
permission request, erasing a creator everywhere). Rules live in outreach/services.py."""

from django.db.models import ProtectedError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from crm import access
from crm import services as crm_services
from crm.api import serializers as crm_serializers
from crm.api import views as crm_views
from crm.api.base import ScopedViewSetMixin, valid
from crm.models import PermissionRequest
from outreach import filtersets, inbound, services, templating
from outreach.api import serializers
from outreach.models import (
    Conversation,
    ConversationMessage,
    FollowUpTask,
    MessageTemplate,
    OutreachMessage,
    SenderAccount,
    Sequence,
    text_length,
)


class ProtectedDestroyMixin:
    """Deleting something still in use (a template in a sequence or the outbox) is refused (400)."""

    def perform_destroy(self, instance):
        try:
            instance.delete()
        except ProtectedError:
            raise ValidationError(
                {"detail": "It is still in use (by a sequence or queued messages); keep it."}
            ) from None


@extend_schema_view(
    create=extend_schema(
        examples=[
            OpenApiExample(
                "An Instagram first message",
                value={
                    "name": "Intro DM",
                    "platforms": ["instagram"],
                    "body": "Hi {{ creator.first_name }}! {{ campaign.brand }} loves your posts. Up for a collab?",
                },
                request_only=True,
            )
        ]
    )
)
class TemplateViewSet(ScopedViewSetMixin, ProtectedDestroyMixin, viewsets.ModelViewSet):
    """Message templates with `{{ creator.first_name }}`-style variables. Unknown variables and texts
    over a platform's limit are refused by field when saved; `preview/` renders one for a creator."""

    queryset = MessageTemplate.objects.all()
    serializer_class = serializers.TemplateSerializer
    filterset_class = filtersets.TemplateFilter
    ordering_fields = ["id", "name", "updated_at"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def perform_create(self, serializer):
        serializer.save(created_by=self.request.user)

    def perform_destroy(self, instance):
        """Only a template nothing ever used is deleted; otherwise 400 saying to archive it."""
        services.delete_template(instance, actor=self.request.user)

    @extend_schema(request=None, responses={200: serializers.TemplateSerializer})
    @action(detail=True, methods=["post"], filterset_class=None)
    def archive(self, request, pk=None):
        """Archive: no longer offered, refused by new launches, sequences and requests; history keeps it."""
        template = services.archive_template(self.get_object(), actor=request.user)
        return Response(self.get_serializer(template).data)

    @extend_schema(request=None, responses={200: serializers.TemplateSerializer})
    @action(detail=True, methods=["post"], filterset_class=None)
    def unarchive(self, request, pk=None):
        """Offer an archived template again."""
        template = services.unarchive_template(self.get_object(), actor=request.user)
        return Response(self.get_serializer(template).data)

    @extend_schema(
        request=serializers.PreviewRequestSerializer,
        responses={200: serializers.PreviewSerializer},
        examples=[OpenApiExample("For one creator", value={"creator": 1, "platform": "instagram"}, request_only=True)],
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def preview(self, request, pk=None):
        """The template rendered for one creator on one platform, with its length against the limit."""
        template = self.get_object()
        data = valid(serializers.PreviewRequestSerializer, request.data, context={"request": request})
        try:
            subject, text = services.render_for(
                template,
                data["creator"],
                platform=data["platform"],
                handle=services.handle_on(data["creator"], data["platform"]),
                campaign=data.get("campaign"),
            )
        except templating.RenderError as error:
            raise ValidationError({"template": [str(error)]}) from None
        length, limit, unit = text_length(data["platform"], text)
        return Response({"subject": subject, "text": text, "length": length, "limit": limit, "unit": unit})


class SequenceViewSet(ScopedViewSetMixin, ProtectedDestroyMixin, viewsets.ModelViewSet):
    """A first message and follow-ups; any reply stops the sequence for that creator."""

    queryset = Sequence.objects.prefetch_related("steps")
    serializer_class = serializers.SequenceSerializer
    ordering_fields = ["id", "name", "created_at"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def perform_create(self, serializer):
        serializer.instance = services.save_sequence(None, actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        services.save_sequence(serializer.instance, actor=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)


@extend_schema_view(
    create=extend_schema(
        examples=[
            OpenApiExample(
                "An Instagram account (Instagram Login)",
                value={
                    "name": "Acme Instagram",
                    "platform": "instagram",
                    "variant": "instagram_login",
                    "account_id": "17841400000000001",
                    "access_token": "IGAA...",
                    "daily_cap": 200,
                },
                request_only=True,
            ),
            OpenApiExample(
                "An email sender",
                value={
                    "name": "Partnerships",
                    "platform": "email",
                    "account_id": "partners@acme.example",
                    "api_base_url": "smtps://user:pass@smtp.acme.example:465",
                    "from_name": "Acme Partnerships",
                },
                request_only=True,
            ),
        ]
    )
)
class SenderAccountViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    """The brand's accounts that send. Everyone may see them (launching needs them); their owner and
    admins change them. Tokens are write-only: stored encrypted, never returned. `pause/` stops
    sending; `resume/` closes an open breaker after you fixed its cause (e.g. a new token)."""

    queryset = SenderAccount.objects.all()
    serializer_class = serializers.SenderAccountSerializer
    filterset_class = filtersets.SenderAccountFilter
    ordering_fields = ["id", "name", "created_at"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    refuse_change_with = "forbidden"
    change_refusal = "Only its owner or an admin may change this sender account."

    def perform_create(self, serializer):
        serializer.instance = services.connect_sender(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        services.update_sender(serializer.instance, actor=self.request.user, **serializer.validated_data)

    def perform_destroy(self, instance):
        if instance.messages.exists():
            raise ValidationError({"detail": "Messages were sent from this account; pause it instead."})
        instance.delete()

    @extend_schema(request=None, responses={200: serializers.SenderAccountSerializer})
    @action(detail=True, methods=["post"], filterset_class=None)
    def pause(self, request, pk=None):
        """Stop this account sending; its queued messages wait until it is resumed."""
        sender = self.get_object()
        services.pause_sender(sender, actor=request.user)
        sender.refresh_from_db()
        return Response(self.get_serializer(sender).data)

    @extend_schema(request=None, responses={200: serializers.SenderAccountSerializer})
    @action(detail=True, methods=["post"], filterset_class=None)
    def resume(self, request, pk=None):
        """Send again: unpause and close an open breaker, after fixing its cause (e.g. a new token)."""
        sender = self.get_object()
        services.resume_sender(sender, actor=request.user)
        sender.refresh_from_db()
        return Response(self.get_serializer(sender).data)


class OutreachMessageViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The outbox: every message with its delivery mode (api, manual, blocked), the reason, and its
    status. Actions: `approve/` a message held for review, `cancel/` one not yet sent, `mark-sent/`
    one you sent by hand from the manual queue, `retry/` a failed one."""

    queryset = OutreachMessage.objects.all()
    serializer_class = serializers.OutreachMessageSerializer
    filterset_class = filtersets.OutreachMessageFilter
    ordering_fields = ["id", "due_at", "sent_at", "created_at", "updated_at"]

    def _act(self, verb, **kwargs):
        message = verb(self.get_object(), actor=self.request.user, **kwargs)
        return Response(self.get_serializer(message).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"], filterset_class=None)
    def approve(self, request, pk=None):
        """A message held for review (the platform may not have received it) goes back to the queue;
        the policy decides again when it is due. Check the platform first: it could go out twice."""
        return self._act(services.approve_message)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"], filterset_class=None)
    def cancel(self, request, pk=None):
        """Withdraw a message that has not gone out (pending, manual, needs review or failed)."""
        return self._act(services.cancel_message)

    @extend_schema(request=serializers.MarkSentSerializer)
    @action(detail=True, methods=["post"], url_path="mark-sent", filterset_class=None)
    def mark_sent(self, request, pk=None):
        """You sent this message by hand from the platform's app: record it as sent by you."""
        data = valid(serializers.MarkSentSerializer, request.data)
        return self._act(services.mark_sent_manually, provider_message_id=data["provider_message_id"])

    @extend_schema(request=None)
    @action(detail=True, methods=["post"], filterset_class=None)
    def retry(self, request, pk=None):
        """Try a failed message again, from a fresh attempt count."""
        return self._act(services.retry_message)

    @extend_schema(
        operation_id="v1_outreach_messages_mark_many_sent",
        request=serializers.BulkMarkSentSerializer,
        responses={200: serializers.BulkMarkSentResultSerializer},
    )
    @action(detail=False, methods=["post"], url_path="mark-sent", filterset_class=None)
    def mark_many_sent(self, request):
        """Several messages you sent by hand, recorded as sent by you, each exactly once: those a
        colleague marked a moment earlier, or that are not yours to act on, are counted as skipped."""
        data = valid(serializers.BulkMarkSentSerializer, request.data)
        done = services.mark_many_sent(data["messages"], actor=request.user)
        return Response({"sent": [message.pk for message in done.sent], "skipped": done.skipped})


class FollowUpTaskViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Work for a person: every automatic reply leaves one, so no creator is left with only a bot.
    `?open=true` lists those not done; `done/` marks one done by you."""

    queryset = FollowUpTask.objects.select_related("creator")
    serializer_class = serializers.FollowUpTaskSerializer
    filterset_class = filtersets.FollowUpTaskFilter
    ordering_fields = ["id", "due_at", "created_at"]

    @extend_schema(request=None, responses={200: serializers.FollowUpTaskSerializer})
    @action(detail=True, methods=["post"], filterset_class=None)
    def done(self, request, pk=None):
        """You answered the creator personally: the follow-up is done (once)."""
        task = services.complete_follow_up(self.get_object(), actor=request.user)
        return Response(self.get_serializer(task).data)


class ConversationViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Threads with creators, newest reply first. `messages/` lists a thread, or (POST) logs a reply
    received off-platform by hand; `reply/` answers inside the platform's window; a message needing
    review is classified with `messages/{id}/classify/`."""

    queryset = Conversation.objects.all()
    serializer_class = serializers.ConversationSerializer
    filterset_class = filtersets.ConversationFilter
    ordering_fields = ["id", "last_inbound_at", "last_outbound_at", "created_at"]

    @extend_schema(methods=["GET"], responses={200: serializers.ConversationMessageSerializer(many=True)})
    @extend_schema(
        methods=["POST"],
        request=serializers.LogReplySerializer,
        responses={201: serializers.ConversationMessageSerializer},
        examples=[
            OpenApiExample(
                "A yes given on the phone",
                value={"text": "Happy for you to use the reel, go ahead", "decision": "granted"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def messages(self, request, pk=None):
        """GET: the thread, newest first. POST: log a reply the creator gave off-platform (a call, a
        personal inbox); it stops their sequences but opens no messaging window. Say what it means
        with `decision`, or it waits for review."""
        conversation = self.get_object()
        if request.method == "POST":
            data = valid(serializers.LogReplySerializer, request.data)
            recorded = inbound.log_reply_by_hand(
                conversation.creator,
                actor=request.user,
                platform=conversation.platform,
                text=data["text"],
                at=data.get("at"),
                decision=data["decision"],
            )
            recorded.refresh_from_db()
            return Response(serializers.ConversationMessageSerializer(recorded).data, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(access.visible(conversation.messages.order_by("-id"), request.user))
        return self.get_paginated_response(serializers.ConversationMessageSerializer(page, many=True).data)

    @extend_schema(request=serializers.ClassifySerializer, responses={200: serializers.ConversationMessageSerializer})
    @action(detail=True, methods=["post"], url_path=r"messages/(?P<message_id>\d+)/classify", filterset_class=None)
    def classify(self, request, pk=None, message_id=None):
        """Say what a reply means: granted, declined, revoked, opted_out or just a reply. Consent is
        recorded in the ledger as yours, with the reply as evidence."""
        conversation = self.get_object()
        recorded = get_object_or_404(
            conversation.messages.select_related("conversation__creator"),
            pk=message_id,
            direction=ConversationMessage.Direction.IN,
        )
        data = valid(serializers.ClassifySerializer, request.data)
        permission_request = None
        if data.get("permission_request"):
            permission_request = access.visible(
                PermissionRequest.objects.filter(pk=data["permission_request"]), request.user
            ).first()
            if permission_request is None:
                raise ValidationError(
                    {"permission_request": ["No request of this creator's that you work on has this id."]}
                )
        recorded = inbound.classify_by_person(
            recorded,
            actor=request.user,
            decision=data["decision"],
            request=permission_request,
        )
        return Response(serializers.ConversationMessageSerializer(recorded).data)

    @extend_schema(
        request=serializers.ReplySerializer,
        responses={201: serializers.OutreachMessageSerializer},
        examples=[
            OpenApiExample("An answer", value={"text": "Thanks Maya! Sending the brief now."}, request_only=True)
        ],
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def reply(self, request, pk=None):
        """Answer the creator. It goes through the outbox: by API inside the platform's window (a
        person's reply gets Meta's 7-day HUMAN_AGENT window), to the manual queue otherwise. Send an
        `Idempotency-Key` so a second click sends nothing twice."""
        conversation = self.get_object()
        data = valid(serializers.ReplySerializer, request.data)
        message = services.reply_in_conversation(
            conversation,
            actor=request.user,
            text=data["text"],
            sender_account=data.get("sender_account"),
            key=request.headers.get("Idempotency-Key", ""),
        )
        return Response(serializers.OutreachMessageSerializer(message).data, status=status.HTTP_201_CREATED)


class CampaignViewSet(crm_views.CampaignViewSet):
    """Campaigns you own or are on the team of (admins: all); others' are not found (404).
    `launch/` queues the first message of a template or sequence for the members (or a subset), on
    a channel plan (the first channel that goes by API, else the manual queue), and answers with the
    counts by delivery mode, reason and channel; `dry_run` counts without queueing. `launches/` is
    the campaign's launch history; `blocked/` who was not reached and why."""

    @extend_schema(
        request=serializers.LaunchSerializer,
        responses={200: serializers.LaunchResultSerializer},
        examples=[
            OpenApiExample(
                "Launch with a template, counting first",
                value={"template": 1, "sender_account": 1, "dry_run": True},
                request_only=True,
            ),
            OpenApiExample(
                "Instagram where a window is open, else email, else the manual queue",
                value={
                    "plan": [{"sender_account": 1, "template": 2}, {"sender_account": 3, "template": 4}],
                    "manual_fallback": True,
                },
                request_only=True,
            ),
            OpenApiExample(
                "Again, by email, for those not reached",
                value={"plan": [{"sender_account": 3, "template": 4}], "again": True},
                request_only=True,
            ),
            OpenApiExample(
                "The counts",
                value={
                    "launch": 7,
                    "number": 1,
                    "members": 3,
                    "created": 3,
                    "already_queued": 0,
                    "by_mode": {"api": 1, "manual": 1, "blocked": 1},
                    "by_reason": [
                        {"mode": "api", "reason": "Email may be sent with an unsubscribe link.", "count": 1},
                        {"mode": "manual", "reason": "Instagram: the creator has not written in 24 h.", "count": 1},
                        {"mode": "blocked", "reason": "The creator opted out.", "count": 1},
                    ],
                    "by_channel": [
                        {"channel": "email", "mode": "api", "count": 1},
                        {"channel": "instagram", "mode": "blocked", "count": 1},
                        {"channel": "instagram", "mode": "manual", "count": 1},
                    ],
                    "choices": [],
                    "preview": None,
                },
                response_only=True,
            ),
        ],
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def launch(self, request, pk=None):
        """Queue the first message for the campaign's members (or `members`), once each, on the channel
        the plan picks for each, and answer with the counts by mode, reason and channel and, member by
        member, the channel chosen and the policy's reason; `dry_run` only counts."""
        campaign = self.get_object()
        data = valid(serializers.LaunchSerializer, request.data)
        plan = [
            services.Channel(step["sender_account"], step.get("template"), step.get("sequence"))
            for step in data.get("plan") or []
        ]
        summary = services.launch_campaign(
            campaign,
            actor=request.user,
            sender_account=data.get("sender_account"),
            template=data.get("template"),
            sequence=data.get("sequence"),
            plan=plan or None,
            manual_fallback=data["manual_fallback"],
            again=data["again"],
            member_ids=data.get("members"),
            dry_run=data["dry_run"],
        )
        return Response(summary.as_dict())

    @extend_schema(responses={200: serializers.LaunchRecordSerializer(many=True)})
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def launches(self, request, pk=None):
        """The campaign's launches, newest first (the last 100): plan, who, when and counts."""
        campaign = self.get_object()
        launches = campaign.launches.select_related("created_by").order_by("-number")[:100]
        return Response(serializers.LaunchRecordSerializer(launches, many=True).data)

    @extend_schema(responses={200: serializers.BlockedMessageSerializer(many=True)})
    @action(detail=True, methods=["get"], filterset_class=None)
    def blocked(self, request, pk=None):
        """Who the campaign's launches could not reach and why, newest first, page by page."""
        campaign = self.get_object()
        rows = (
            OutreachMessage.objects.filter(campaign=campaign, status=OutreachMessage.Status.BLOCKED)
            .select_related("creator", "launch")
            .order_by("-created_at", "-id")
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(serializers.BlockedMessageSerializer(page, many=True).data)


class PermissionRequestViewSet(mixins.CreateModelMixin, crm_views.PermissionRequestViewSet):
    """May this post be reused, where and until when? `?content_url=…&status=granted`.
    Creating a request sends it through the outbox (by API inside the window, to the manual queue
    otherwise). `revoke/` records a withdrawal; `record-decision/` a yes or no the creator gave where
    no webhook saw it. Both are recorded in the ledger as yours, with the creator's words."""

    @extend_schema(
        request=serializers.PermissionRequestCreateSerializer,
        responses={201: crm_serializers.PermissionRequestSerializer},
        examples=[
            OpenApiExample(
                "Paid ads for 90 days",
                value={
                    "content": 12,
                    "channels": ["paid_ads", "organic_social"],
                    "territory": "GB, IE",
                    "duration_days": 90,
                    "terms_url": "https://acme.example/ugc-terms",
                    "terms_text": "You grant Acme the right to use the post in paid ads in GB and IE for 90 days.",
                    "approval_hashtag": "#YesAcme",
                    "sender_account": 1,
                    "template": 3,
                },
                request_only=True,
            )
        ],
    )
    def create(self, request, *args, **kwargs):
        data = valid(serializers.PermissionRequestCreateSerializer, request.data, context={"request": request})
        scope = crm_services.Scope(
            channels=data.pop("channels"),
            territory=data.pop("territory"),
            exclusive=data.pop("exclusive"),
            duration_days=data.pop("duration_days", None),
        )
        permission_request = services.ask_for_permission(data.pop("content"), actor=request.user, scope=scope, **data)
        permission_request = self.get_queryset().get(pk=permission_request.pk)
        return Response(self.get_serializer(permission_request).data, status=status.HTTP_201_CREATED)

    def _decide(self, verb, request, data):
        permission_request = self.get_object()
        evidence = crm_services.Evidence(
            channel=data.get("channel", ""),
            message_id=data.get("message_id", ""),
            text=data["text"],
            note=data.get("note", ""),
            occurred_at=data.get("occurred_at") or timezone.now(),
        )
        verb(permission_request, actor=request.user, evidence=evidence)
        permission_request = self.get_queryset().get(pk=permission_request.pk)
        return Response(self.get_serializer(permission_request).data)

    @extend_schema(request=serializers.RevokeSerializer, responses={200: crm_serializers.PermissionRequestSerializer})
    @action(detail=True, methods=["post"], filterset_class=None)
    def revoke(self, request, pk=None):
        """The creator withdrew the rights: recorded in the ledger as yours, with their words."""
        return self._decide(crm_services.revoke_rights, request, valid(serializers.RevokeSerializer, request.data))

    @extend_schema(request=serializers.DecisionSerializer, responses={200: crm_serializers.PermissionRequestSerializer})
    @action(detail=True, methods=["post"], url_path="record-decision", filterset_class=None)
    def record_decision(self, request, pk=None):
        """A yes or no the creator gave where no webhook saw it (an email to a person, a call)."""
        data = valid(serializers.DecisionSerializer, request.data)
        verb = crm_services.grant_rights if data["decision"] == "granted" else crm_services.decline_rights
        return self._decide(verb, request, data)


class CreatorViewSet(mixins.DestroyModelMixin, crm_views.CreatorViewSet):
    """Creators with their accounts on every platform; `?handle=&platform=` finds one by handle or URL,
    `?q=` searches names, emails and handles. Create one with its accounts (handles or profile URLs);
    send `Idempotency-Key` to retry safely. DELETE (admins) erases the creator's personal data and
    message texts (GDPR) while the consent ledger stays provable by its hashes."""

    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def destroy(self, request, *args, **kwargs):
        creator = self.get_object()
        if not access.is_admin(request.user):
            raise PermissionDenied("Only an admin may erase a creator.")
        if creator.erased_at:
            raise NotFound("This creator's data was already erased.")
        services.erase_creator(creator, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConsentEventViewSet(crm_views.ConsentEventViewSet):
    """The consent ledger, read only: every decision with its evidence hashes. Creators' contact
    choices (opt-outs) are everyone's to see; rights decisions follow their request's campaign.
    `void/` records that an entry was recorded in error (a misclick, the wrong request): a new entry of
    its own kind, with who and why; the voided entry stays, and statuses are derived again."""

    @extend_schema(
        request=crm_serializers.VoidEntrySerializer,
        responses={201: crm_serializers.ConsentEventSerializer},
        examples=[
            OpenApiExample("A misclick", value={"reason": "Clicked granted on the wrong reply."}, request_only=True)
        ],
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def void(self, request, pk=None):
        """Say this entry was recorded in error; answers with the correction entry."""
        data = valid(crm_serializers.VoidEntrySerializer, request.data)
        correction = inbound.correct_decision(self.get_object(), actor=request.user, reason=data["reason"])
        correction = self.get_queryset().get(pk=correction.pk)
        return Response(self.get_serializer(correction).data, status=status.HTTP_201_CREATED)
