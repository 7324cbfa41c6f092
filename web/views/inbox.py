"""The inbox: conversations newest first, replies waiting for a person to say what they mean, and
answers written from the page (they go through the outbox, so the platform's window is respected)."""

import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from crm import access
from crm.models import PermissionRequest
from outreach import inbound, services
from outreach.models import Conversation, ConversationMessage, SenderAccount, SenderPlatform
from web.access import get_visible, page
from web.forms import error_text, show_errors
from web.work import safe_back

PAGE_SIZE = 50
REVIEW_SHOWN = 50
Classification = ConversationMessage.Classification
DECISIONS = [
    (Classification.GRANTED, "Granted"),
    (Classification.DECLINED, "Declined"),
    (Classification.OPTED_OUT, "Opted out"),
    (Classification.REPLY, "Just a reply"),
]
PR = PermissionRequest.Status


class ReplyForm(forms.Form):
    text = forms.CharField(label="Your answer", widget=forms.Textarea(attrs={"rows": 4}))
    sender_account = forms.ModelChoiceField(queryset=SenderAccount.objects.none(), label="Send from")
    key = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, conversation, **kwargs):
        super().__init__(*args, **kwargs)
        senders = SenderAccount.objects.filter(platform=conversation.platform).order_by("name")
        self.fields["sender_account"].queryset = senders
        self.fields["sender_account"].initial = conversation.sender_account_id
        self.fields["key"].initial = uuid.uuid4().hex


class LogReplyForm(forms.Form):
    """A reply that reached a person elsewhere (a call, a personal inbox); it then waits to be classified."""

    said = forms.CharField(label="What the creator said", widget=forms.Textarea(attrs={"rows": 3}))
    at = forms.DateTimeField(
        label="When",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Leave empty for now.",
    )


def _candidates(user, creator_ids):
    """The permission requests a decision may be about, per creator: visible, and asked or granted."""
    by_creator = {}
    requests = (
        access.visible(PermissionRequest.objects.all(), user)
        .filter(creator_id__in=creator_ids, status__in=[PR.REQUESTED, PR.GRANTED])
        .select_related("content", "campaign")
        .order_by("-requested_at", "-id")
    )
    for request in requests:
        by_creator.setdefault(request.creator_id, []).append(request)
    return by_creator


@page
def inbox(request):
    """Replies waiting for review first (one click says what each means), then every conversation, newest first."""
    review = list(
        ConversationMessage.objects.filter(
            direction=ConversationMessage.Direction.IN, classification=Classification.NEEDS_REVIEW
        )
        .select_related("conversation__creator")
        .order_by("-at", "-id")[:REVIEW_SHOWN]
    )
    candidates = _candidates(request.user, {message.conversation.creator_id for message in review})
    for message in review:
        message.requests = candidates.get(message.conversation.creator_id, [])
    latest = access.visible(ConversationMessage.objects.filter(conversation=OuterRef("pk")), request.user)
    latest = latest.order_by("-at", "-id")
    # Only the time is computed for every conversation (it orders them); the last message's text and
    # direction are read for the page's 50 alone (one query), not for every conversation.
    conversations = (
        Conversation.objects.prefetch_related("creator")  # the page's 50 by id, not a join of every creator
        .annotate(last_at=Subquery(latest.values("at")[:1]))
        .order_by("-last_at", "-id")
    )
    platform = request.GET.get("platform", "")
    if platform in SenderPlatform.values:
        conversations = conversations.filter(platform=platform)
    current = Paginator(conversations, PAGE_SIZE).get_page(request.GET.get("page"))
    shown = list(current.object_list)
    last = Conversation.objects.filter(pk__in=[conversation.pk for conversation in shown]).annotate(
        last_text=Subquery(latest.values("text")[:1]), last_direction=Subquery(latest.values("direction")[:1])
    )
    last = {row["pk"]: row for row in last.values("pk", "last_text", "last_direction")} if shown else {}
    for conversation in shown:
        conversation.last_text = last.get(conversation.pk, {}).get("last_text")
        conversation.last_direction = last.get(conversation.pk, {}).get("last_direction")
    current.object_list = shown
    context = {
        "section": "inbox",
        "review": review,
        "decisions": DECISIONS,
        "page": current,
        "platforms": SenderPlatform.choices,
        "platform": platform,
    }
    return render(request, "web/inbox/list.html", context)


@page
def conversation_detail(request, pk: int):
    """One thread, oldest first, with the window's state and the answer form."""
    conversation = get_visible(Conversation.objects.select_related("creator", "sender_account"), request.user, pk=pk)
    return _render_conversation(request, conversation, ReplyForm(conversation=conversation))


def _render_conversation(request, conversation, form, log_form=None):
    messages_seen = access.visible(conversation.messages.select_related("classified_by"), request.user)
    thread = list(messages_seen.order_by("-at", "-id")[:200])[::-1]
    requests = _candidates(request.user, [conversation.creator_id]).get(conversation.creator_id, [])
    context = {
        "section": "inbox",
        "conversation": conversation,
        "thread": thread,
        "decisions": DECISIONS,
        "requests": requests,
        "window": services.reply_window(conversation, actor=request.user),
        "form": form,
        "log_form": log_form or LogReplyForm(),
    }
    return render(request, "web/inbox/conversation.html", context)


@require_POST
@page
def reply(request, pk: int):
    """Answer the creator; a second click with the same form sends nothing twice."""
    conversation = get_visible(Conversation.objects.select_related("creator", "sender_account"), request.user, pk=pk)
    form = ReplyForm(request.POST, conversation=conversation)
    if form.is_valid():
        data = form.cleaned_data
        try:
            message = services.reply_in_conversation(
                conversation,
                actor=request.user,
                text=data["text"],
                sender_account=data["sender_account"],
                key=data["key"],
            )
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(
                request, f"Answer queued (message #{message.pk}). {services.reply_window(conversation)['text']}"
            )
            return redirect("web:conversation", pk=conversation.pk)
    return _render_conversation(request, conversation, form)


@require_POST
@page
def classify(request, pk: int, message_id: int):
    """Say what a reply means; consent decisions go to the ledger as yours, with the reply as evidence."""
    recorded = get_visible(
        ConversationMessage.objects.select_related("conversation__creator"),
        request.user,
        pk=message_id,
        conversation_id=pk,
        direction=ConversationMessage.Direction.IN,
    )
    back = safe_back(request, reverse("web:inbox"))
    decision = request.POST.get("decision", "")
    if decision not in {value for value, _ in DECISIONS} | {Classification.REVOKED}:
        messages.error(request, "decision: Choose granted, declined, opted out or just a reply.")
        return redirect(back)
    permission_request = None
    if decision in {Classification.GRANTED, Classification.DECLINED, Classification.REVOKED}:
        wanted = PR.GRANTED if decision == Classification.REVOKED else PR.REQUESTED
        candidates = [
            candidate
            for candidate in _candidates(request.user, [recorded.conversation.creator_id]).get(
                recorded.conversation.creator_id, []
            )
            if candidate.status == wanted
        ]
        chosen = request.POST.get("permission_request", "")
        if chosen:
            permission_request = next((c for c in candidates if str(c.pk) == chosen), None)
            if permission_request is None:
                messages.error(request, f"permission request: No {wanted} request of this creator's has this id.")
                return redirect(back)
        elif len(candidates) > 1:
            # Never one click for several: the person says which request (post and scope) it answers.
            messages.error(
                request,
                f"permission request: {recorded.conversation.creator.name} has {len(candidates)} {wanted} "
                "requests; choose the one this reply answers.",
            )
            return redirect(back)
        elif candidates:
            permission_request = candidates[0]
        else:
            messages.error(
                request, f"decision: {recorded.conversation.creator.name} has no {wanted} permission request."
            )
            return redirect(back)
        if not access.can_change(permission_request, request.user):
            messages.error(request, "permission request: It belongs to a campaign you do not work on.")
            return redirect(back)
    try:
        inbound.classify_by_person(recorded, actor=request.user, decision=decision, request=permission_request)
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        label = dict(DECISIONS).get(decision, "Rights withdrawn")
        messages.success(request, f"{recorded.conversation.creator.name}'s reply: {label.lower()}.")
    return redirect(back)


@require_POST
@page
def log_reply(request, pk: int):
    """Enter a reply the creator gave off-platform; it stops their sequences and waits for your one-click reading."""
    conversation = get_visible(Conversation.objects.select_related("creator", "sender_account"), request.user, pk=pk)
    form = LogReplyForm(request.POST)
    if form.is_valid():
        try:
            inbound.log_reply_by_hand(
                conversation.creator,
                actor=request.user,
                platform=conversation.platform,
                text=form.cleaned_data["said"],
                at=form.cleaned_data["at"],
            )
        except ValidationError as error:
            show_errors(form, error, rename={"text": "said"})
        else:
            messages.success(request, "Reply logged; say what it means below.")
            return redirect("web:conversation", pk=conversation.pk)
    return _render_conversation(request, conversation, ReplyForm(conversation=conversation), log_form=form)
