"""Where a person opens a conversation with a creator in the platform's own app, for the messages
they send by hand (the manual queue): one function for every platform. Pure: it reads the creator's
accounts and never calls a platform."""

from urllib.parse import quote, urlencode

from outreach.platforms import RECIPIENT_PLATFORM, SenderPlatform


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
