"""The manual queue: messages a person sends from the platform's own app, with the text to copy, a
deep link to the creator, and "mark as sent". An echo of the sent message clears a row by itself.
Beside it, the outbox rows a person must check: sends held for review (approve, or mark sent if it
did go out) and failures (retry)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from crm import access
from outreach import services
from outreach.deeplinks import deep_link
from outreach.models import RECIPIENT_PLATFORM, OutreachMessage, SenderPlatform
from web.access import get_workable, page, visible_campaigns
from web.forms import error_text
from web.work import safe_back

PAGE_SIZE = 50
UNDO_KEY = "web.queue.undo"  # the message just cancelled, offered for undo on the next page
Status = OutreachMessage.Status
SHOWN = {
    Status.MANUAL: "To send by hand",
    Status.NEEDS_REVIEW: "Held for review",
    Status.FAILED: "Failed",
}


def _queue(user, status):
    return (
        access.visible(OutreachMessage.objects.filter(status=status), user)
        .select_related("creator", "campaign", "sender_account", "permission_request__campaign")
        .prefetch_related("creator__accounts")
        .order_by("due_at", "id")
    )


@page
def manual_queue(request):
    """Oldest first: what is waiting for a person to send by hand, each with everything needed to send it;
    `?show=needs_review` and `?show=failed` list the sends a person must check."""
    show = request.GET.get("show") if request.GET.get("show") in SHOWN else Status.MANUAL
    queryset = _queue(request.user, show)
    platform = request.GET.get("platform", "")
    if platform in SenderPlatform.values:
        queryset = queryset.filter(platform=platform)
    campaign = request.GET.get("campaign", "")
    if campaign.isdigit():
        queryset = queryset.filter(campaign_id=int(campaign))
    paginator = Paginator(queryset, PAGE_SIZE)
    current = paginator.get_page(request.GET.get("page"))
    rows = []
    for message in current.object_list:
        url, label = deep_link(
            message.platform,
            message.creator,
            message.creator.accounts.all(),
            subject=message.rendered_subject,
            text=message.rendered_text,
        )
        recipient = RECIPIENT_PLATFORM.get(message.platform, message.platform)
        handle = next((a.handle for a in message.creator.accounts.all() if a.platform == recipient), "")
        rows.append({"message": message, "link": url, "link_label": label, "handle": handle,
                     "can_act": access.can_change(message, request.user)})  # fmt: skip
    query = request.GET.copy()
    query.pop("page", None)
    counts = dict(
        access.visible(OutreachMessage.objects.filter(status__in=SHOWN), request.user)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    context = {
        "section": "manual-queue",
        "show": show,
        "tabs": [(value, label, counts.get(value, 0)) for value, label in SHOWN.items()],
        "rows": rows,
        "page": current,
        "query": query.urlencode(),
        "platforms": SenderPlatform.choices,
        "platform": platform,
        "campaigns": visible_campaigns(request.user).order_by("name").only("pk", "name"),
        "campaign": campaign,
        "undo": request.session.pop(UNDO_KEY, None),
    }
    return render(request, "web/queue/list.html", context)


def _message_to_act_on(request, pk):
    """An outbox row of a campaign this person works on (or of none), else 404."""
    return get_workable(OutreachMessage.objects.select_related("campaign", "creator"), request.user, pk=pk)


@require_POST
@page
def mark_sent(request, pk: int):
    """You sent it from the platform's app: record it as sent by you (the echo, if any, changes nothing)."""
    message = _message_to_act_on(request, pk)
    try:
        services.mark_sent_manually(message, actor=request.user)
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, f"Marked as sent to {message.creator.name}.")
    return redirect(safe_back(request, reverse("web:manual_queue")))


@require_POST
@page
def bulk_mark_sent(request):
    """The ticked messages were sent from the platform's app: record each as sent by you, once (the
    page asks first, with the count); those a colleague marked a moment earlier are left as they are."""
    ids = [value for value in request.POST.getlist("message") if value.isdigit()]
    try:
        done = services.mark_many_sent(ids, actor=request.user)
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        names = ", ".join(message.creator.name for message in done.sent[:5]) + ("…" if len(done.sent) > 5 else "")
        if done.sent:
            messages.success(request, f"Marked {len(done.sent)} message{'s' if len(done.sent) != 1 else ''} "
                                      f"as sent: {names}.")  # fmt: skip
        if done.skipped:
            messages.warning(request, f"{done.skipped} left as they were: already sent (perhaps by a colleague "
                                      "just now), cancelled, or not yours to mark.")  # fmt: skip
    return redirect(safe_back(request, reverse("web:manual_queue")))


@require_POST
@page
def cancel(request, pk: int):
    """Withdraw a queued message that should not go out after all."""
    message = _message_to_act_on(request, pk)
    try:
        services.cancel_message(message, actor=request.user)
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, f"Cancelled the message to {message.creator.name}.")
        request.session[UNDO_KEY] = {"pk": message.pk, "name": message.creator.name}
    return redirect(safe_back(request, reverse("web:manual_queue")))


@require_POST
@page
def requeue(request, pk: int):
    """Undo a cancel: the message goes back to the queue and the policy decides again how it goes."""
    message = _message_to_act_on(request, pk)
    request.session.pop(UNDO_KEY, None)
    try:
        services.requeue_cancelled(message, actor=request.user)
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, f"The message to {message.creator.name} is back in the queue.")
    return redirect(safe_back(request, reverse("web:manual_queue")))


@require_POST
@page
def approve(request, pk: int):
    """A send held for review did not reach the creator (you checked): let the outbox try it again."""
    message = _message_to_act_on(request, pk)
    try:
        services.approve_message(message, actor=request.user)
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, f"The message to {message.creator.name} goes back to the outbox.")
    return redirect(safe_back(request, reverse("web:manual_queue")))


@require_POST
@page
def retry(request, pk: int):
    """Try a failed message again, from a fresh attempt count (after fixing, say, the token)."""
    message = _message_to_act_on(request, pk)
    try:
        services.retry_message(message, actor=request.user)
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, f"The message to {message.creator.name} will be tried again.")
    return redirect(safe_back(request, reverse("web:manual_queue")))
