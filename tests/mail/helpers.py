"""Building raw emails for the mail tests: a creator's reply, a bounce, an automatic reply."""

import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

BRAND = "partners@acme.example"
CREATOR = "maya@creator.example"
GATEWAY = "mx.acme.example"


def reply(
    text: str,
    *,
    in_reply_to: str = "",
    sender: str = CREATOR,
    to: str = BRAND,
    date: datetime.datetime | None = None,
    headers: dict | None = None,
    html: str = "",
    message_id: str = "",
) -> bytes:
    message = EmailMessage()
    message["From"] = f"Maya Hart <{sender}>"
    message["To"] = to
    message["Subject"] = "Re: Acme x Maya"
    message["Date"] = format_datetime(date or datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC))
    message["Message-ID"] = message_id or make_msgid(domain="creator.example")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    for name, value in (headers or {}).items():
        message[name] = value
    if text:
        message.set_content(text)
    if html:
        if text:
            message.add_alternative(html, subtype="html")
        else:
            message.set_content(html, subtype="html")
    return message.as_bytes(policy=policy.SMTP)


def authenticated(raw: bytes, authserv_id: str = GATEWAY, domain: str = "creator.example", result="pass") -> bytes:
    """The message as a trusted gateway hands it on: with its Authentication-Results on top."""
    return f"Authentication-Results: {authserv_id}; dkim={result} header.d={domain} header.s=s1\r\n".encode() + raw


def dsn(original_message_id: str, recipient: str = CREATOR, status: str = "5.1.1", action: str = "failed") -> bytes:
    """A delivery status notification (RFC 3464) as Postfix writes one."""
    boundary = "dsn-boundary-1"
    return f"""From: MAILER-DAEMON@mx.acme.example (Mail Delivery System)
To: {BRAND}
Subject: Undelivered Mail Returned to Sender
Date: Wed, 26 Nov 2026 10:05:00 +0000
Message-ID: <dsn-{status}-{recipient}@mx.acme.example>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"

--{boundary}
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.acme.example.
I'm sorry to have to inform you that your message could not be delivered.

--{boundary}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.acme.example
Arrival-Date: Wed, 26 Nov 2026 10:04:59 +0000

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Remote-MTA: dns; mx.creator.example
Diagnostic-Code: smtp; 550 {status} <{recipient}>: Recipient address rejected: User unknown

--{boundary}
Content-Type: text/rfc822-headers

From: Acme <{BRAND}>
To: {recipient}
Subject: Acme x Maya
Message-ID: {original_message_id}

--{boundary}--
""".replace("\n", "\r\n").encode()
