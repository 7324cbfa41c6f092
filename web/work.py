"""Helpers of the work pages (manual queue, inbox, permission requests, sender accounts, templates):
deep links to a creator on each platform, who may act on an outbox row, and service errors as form errors.
"""

from urllib.parse import quote, urlencode

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.http import url_has_allowed_host_and_scheme

from crm import services as crm_services
from crm.models import Role, role_of
from outreach.models import RECIPIENT_PLATFORM, SenderPlatform


def deep_link(platform: str, creator, accounts, *, subject: str = "", text: str = "") -> tuple[str, str]:
    """(URL, label) that opens the creator's chat (or, failing that, profile) in the platform's own app.

    One place for every platform: Instagram `ig.me/m/<handle>`, Messenger `m.me/<handle>`, X's DM
    composer by user id, TikTok and LinkedIn profiles, WhatsApp `wa.me/<number>`, email `mailto:`
    with the subject and text filled in. ("", "") when we know no account to open.
    """
    if platform == SenderPlatform.EMAIL:
        if not creator.email:
            return "", ""
        query = urlencode({"subject": subject, "body": text}, quote_via=quote) if (subject or text) else ""
        return f"mailto:{creator.email}" + (f"?{query}" if query else ""), "Write the email"
    wanted = RECIPIENT_PLATFORM.get(platform)
    account = next((account for account in accounts if account.platform == wanted), None)
    if account is None:
        return "", ""
    label = SenderPlatform(platform).label.replace(" (manual only)", "")
    handle = quote(account.handle, safe="")
    if platform == SenderPlatform.INSTAGRAM:
        return f"https://ig.me/m/{handle}", f"Open the chat on {label}"
    if platform == SenderPlatform.MESSENGER:
        return f"https://m.me/{handle}", f"Open the chat on {label}"
    if platform == SenderPlatform.X and account.platform_user_id:
        return (
            f"https://x.com/messages/compose?recipient_id={quote(account.platform_user_id, safe='')}",
            f"Open a DM on {label}",
        )
    if platform == SenderPlatform.WHATSAPP:
        return f"https://wa.me/{handle}", f"Open the chat on {label}"
    if account.profile_url:
        return account.profile_url, f"Open the profile on {label}"
    return "", ""


def can_act_on_message(message, user) -> bool:
    """Managers act on the outbox rows of campaigns (or permission requests' campaigns) they work on,
    and on one-off inbox replies; admins on all."""
    if role_of(user) == Role.ADMIN:
        return True
    campaign = message.campaign or (message.permission_request.campaign if message.permission_request_id else None)
    if campaign is not None:
        return crm_services.can_work_on(campaign, user)
    return role_of(user) == Role.MANAGER


def require_work(campaign, user) -> None:
    """Seen but not this person's to change: 404, as for something they cannot see."""
    if campaign is not None and not crm_services.can_work_on(campaign, user):
        raise Http404("Nothing of yours matches.")


def add_service_errors(form, error) -> None:
    """A service's ValidationError (or InvalidInput) shown on the form, each message by its field."""
    if isinstance(error, crm_services.InvalidInput):
        problems = error.errors
    elif isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        problems = error.message_dict
    else:
        problems = {None: getattr(error, "messages", [str(error)])}
    for field, messages in problems.items():
        messages = messages if isinstance(messages, list | tuple) else [messages]
        target = field if field in form.fields else None
        for message in messages:
            text = str(message)
            if target is None and field and field not in form.fields:
                text = f"{field.replace('_', ' ').capitalize()}: {text}"
            form.add_error(target, text)


def error_text(error) -> str:
    """A service's ValidationError as one line naming each field, for a flash message."""
    if hasattr(error, "error_dict"):
        return "; ".join(
            f"{field.replace('_', ' ')}: {' '.join(messages)}" for field, messages in error.message_dict.items()
        )
    return " ".join(getattr(error, "messages", [str(error)]))


def safe_back(request, default: str) -> str:
    """Where to go after an action: the page's own `back` if it is a path on this site, else `default`."""
    back = request.POST.get("back", "")
    if back.startswith("/") and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return back
    return default
