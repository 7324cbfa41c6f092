"""Addresses and servers of an email sender account: the per-request reply address (plus-addressing,
so a reply proves which request it answers) and the SMTP and IMAP servers of its mailbox."""

import re

from outreach.channels.base import MailServer

REQUEST_TAG = re.compile(r"^pr(\d+)$")


def request_reply_address(from_address: str, request_id: int) -> str:
    """partners@acme.example -> partners+pr123@acme.example (RFC 5233 subaddress)."""
    local, _, domain = from_address.partition("@")
    if not domain:
        return ""
    return f"{local.partition('+')[0]}+pr{request_id}@{domain}"


def request_tag(address: str, our_addresses: set[str]) -> str:
    """The tag ("pr123") of one of our plus addresses, or "" for any other address."""
    local, _, domain = address.lower().partition("@")
    base, plus, tag = local.partition("+")
    if plus and REQUEST_TAG.match(tag) and f"{base}@{domain}" in our_addresses:
        return tag
    return ""


def request_id_of(tag: str) -> int | None:
    found = REQUEST_TAG.match(tag or "")
    return int(found.group(1)) if found else None


def smtp_server(sender) -> MailServer | None:
    if not sender.smtp_host:
        return None
    return MailServer(
        sender.smtp_host, sender.smtp_port, sender.smtp_security, sender.smtp_username, sender.smtp_password
    )


def imap_server(sender) -> MailServer | None:
    if not sender.imap_host:
        return None
    return MailServer(
        sender.imap_host,
        sender.imap_port,
        sender.imap_security,
        sender.imap_username or sender.account_id,
        sender.imap_password,
    )
