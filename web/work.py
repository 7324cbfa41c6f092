"""Helpers of the work pages (manual queue, inbox, permission requests, sender accounts, templates):
deep links to a creator on each platform, and where to go back after an action."""

from urllib.parse import quote, urlencode

from django.utils.http import url_has_allowed_host_and_scheme

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


def safe_back(request, default: str) -> str:
    """Where to go after an action: the page's own `back` if it is a path on this site, else `default`."""
    back = request.POST.get("back", "")
    if back.startswith("/") and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return back
    return default
