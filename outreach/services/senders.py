"""The brand's sender accounts: connect one (its token stored encrypted), replace its token, pause and
resume it; the checks of its platform, variant and address, by field, for the API and the pages."""

from urllib.parse import urlsplit

from django.conf import settings

from core import netguard
from crm.errors import DomainError
from outreach.models import SenderAccount, SenderPlatform
from outreach.queue import enqueue_sending


def resume_sender(sender: SenderAccount, *, actor) -> None:
    """A person fixed what paused the account (e.g. a new token): close the breaker, send again."""
    SenderAccount.objects.filter(pk=sender.pk).update(
        paused=False,
        breaker_state=SenderAccount.Breaker.CLOSED,
        breaker_reason="",
        breaker_until=None,
        consecutive_failures=0,
        rate_limited_until=None,
    )
    enqueue_sending(sender.pk)


def pause_sender(sender: SenderAccount, *, actor) -> None:
    """Stop an account's sending until a person resumes it; queued messages wait."""
    SenderAccount.objects.filter(pk=sender.pk).update(paused=True)


def sender_settings_problems(platform: str, variant: str, base_url: str, *, resolve=None) -> dict[str, str]:
    """What is wrong with a sender account's platform, variant and address, by field (API and pages).

    A platform is reached over https (plain http only with ALLOW_INSECURE_PLATFORM_URLS, for the
    sandbox), an email sender through smtp(s)://. The address must lead to the public internet
    (core.netguard: no private, loopback or metadata address in any spelling, no name resolving to
    one; loopback only with ALLOW_INSECURE_PLATFORM_URLS); it is checked again at connect time."""
    problems = {}
    if variant and platform != SenderPlatform.INSTAGRAM:
        problems["variant"] = "Only Instagram accounts have a variant."
    if not base_url or not platform:
        return problems
    insecure = settings.ALLOW_INSECURE_PLATFORM_URLS
    if platform == SenderPlatform.EMAIL:
        schemes = ("smtp", "smtps")
        if not base_url.startswith(("smtp://", "smtps://")):
            problems["api_base_url"] = "An email sender needs smtp://host:port."
            return problems
        if urlsplit(base_url).password:
            problems["api_base_url"] = "Put the SMTP password in the SMTP password field, not in the address."
            return problems
    else:
        schemes = ("https", "http") if insecure else ("https",)
        if not base_url.startswith(tuple(f"{scheme}://" for scheme in schemes)):
            problems["api_base_url"] = "Use an https:// address."
            return problems
    try:
        netguard.check_url(base_url, schemes=schemes, allow_loopback=insecure, resolve=resolve)
    except netguard.UnsafeAddress as error:
        problems["api_base_url"] = str(error)
    return problems


MAILBOX_FIELDS = (
    "smtp_host", "smtp_port", "smtp_security", "smtp_username",
    "imap_host", "imap_port", "imap_security", "imap_username", "imap_authserv_id",
)  # fmt: skip
SENDER_FIELDS = (
    "name", "platform", "variant", "account_id", "api_base_url", "api_version", "from_name", "rate_per_second",
    "rate_per_15min", "rate_per_day", "daily_cap", "auto_reply_template", "auto_reply_every_hours",
    *MAILBOX_FIELDS,
)  # fmt: skip
PASSWORDS = ("smtp_password", "imap_password")


def mailbox_problems(platform: str, fields: dict, *, resolve=None) -> dict[str, str]:
    """An email sender's mailbox settings, by field: a port in range, a host for each password, and
    mailbox settings only on email senders."""
    problems = {}
    given = [name for name in (*MAILBOX_FIELDS, *PASSWORDS) if fields.get(name) not in (None, "")]
    if given and platform != SenderPlatform.EMAIL:
        return {given[0]: "Only email senders have a mailbox."}
    for kind in ("smtp", "imap"):
        port = fields.get(f"{kind}_port")
        if port is not None and port != "" and not 0 < int(port) < 65536:
            problems[f"{kind}_port"] = "A port is between 1 and 65535."
        if fields.get(f"{kind}_password") and not fields.get(f"{kind}_host"):
            problems[f"{kind}_host"] = f"Enter the {kind.upper()} server for this password."
        if fields.get(f"{kind}_security") == "none" and not settings.ALLOW_INSECURE_PLATFORM_URLS:
            problems[f"{kind}_security"] = "Use ssl or starttls: a password must not cross the network in clear."
        host = (fields.get(f"{kind}_host") or "").strip()
        if host and f"{kind}_port" not in problems:
            # The same address guard as platform and webhook URLs (again at connect time).
            try:
                netguard.check_host(
                    host, int(port or 0) or 1, allow_loopback=settings.ALLOW_INSECURE_PLATFORM_URLS, resolve=resolve
                )
            except netguard.UnsafeAddress as error:
                problems[f"{kind}_host"] = str(error)
    return problems


def set_passwords(sender: SenderAccount, passwords: dict) -> None:
    """Write-only secrets: stored encrypted; None leaves the stored one, "" removes it."""
    for name in PASSWORDS:
        value = passwords.get(name)
        if value is not None:
            getattr(sender, f"set_{name}")(value)


def connect_sender(*, actor, access_token: str = "", **fields) -> SenderAccount:
    """Connect the brand's account on a platform, owned by whoever connects it; the token is stored
    encrypted and never shown again. The one place a sender account is created (API and pages)."""
    problems = sender_settings_problems(
        fields.get("platform", ""), fields.get("variant", ""), fields.get("api_base_url", "")
    )
    problems.update(mailbox_problems(fields.get("platform", ""), fields))
    if problems:
        raise DomainError(problems)
    sender = SenderAccount(owner=actor, **{name: value for name, value in fields.items() if name in SENDER_FIELDS})
    sender.set_access_token(access_token)
    set_passwords(sender, fields)
    sender.save()
    return sender


def update_sender(sender: SenderAccount, *, actor, **fields) -> SenderAccount:
    """Change a sender account's settings (and its token, when one is given), checked like a new one."""
    token = fields.pop("access_token", None)
    wanted = {name: fields.get(name, getattr(sender, name)) for name in ("platform", "variant", "api_base_url")}
    problems = sender_settings_problems(wanted["platform"], wanted["variant"], wanted["api_base_url"])
    mailbox = {name: fields.get(name, getattr(sender, name)) for name in MAILBOX_FIELDS}
    problems.update(mailbox_problems(wanted["platform"], {**mailbox, **{p: fields.get(p) for p in PASSWORDS}}))
    if problems:
        raise DomainError(problems)
    for name, value in fields.items():
        if name in SENDER_FIELDS:
            setattr(sender, name, value)
    if token is not None:
        sender.set_access_token(token)
    set_passwords(sender, fields)
    sender.save()
    return sender


def replace_token(sender: SenderAccount, *, actor, access_token: str) -> None:
    """A new token after the platform revoked the old one; stored encrypted, not shown again."""
    if not (access_token or "").strip():
        raise DomainError({"access_token": ["Enter the new access token."]})
    sender.set_access_token(access_token.strip())
    sender.save(update_fields=["access_token_encrypted"])
