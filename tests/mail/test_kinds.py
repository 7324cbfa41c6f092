"""Bounces and automatic replies told apart from a creator's mail (outreach.mail.kinds)."""

from email import policy
from email.parser import BytesParser

import pytest

from outreach.mail.kinds import automatic_reply, bounce
from tests.mail.helpers import CREATOR, dsn, reply

QMAIL = b"""From: MAILER-DAEMON@mx.creator.example
To: partners@acme.example
Subject: failure notice
Date: Wed, 26 Nov 2026 10:05:00 +0000

Hi. This is the qmail-send program at mx.creator.example.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<maya@creator.example>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

From: Acme <partners@acme.example>
To: maya@creator.example
Subject: Acme x Maya
Message-ID: <outreach-7@acme.example>

Hi Maya
"""


def parsed(raw: bytes):
    return BytesParser(policy=policy.default).parsebytes(raw)


def test_an_rfc_3464_report_gives_recipient_status_reason_and_our_message_id():
    found = bounce(parsed(dsn("<outreach-7@acme.example>")))
    assert found.recipients == (CREATOR,)
    assert (found.permanent, found.status) == (True, "5.1.1")
    assert "User unknown" in found.reason
    assert found.original_message_id == "<outreach-7@acme.example>"


def test_a_delay_report_is_not_permanent():
    found = bounce(parsed(dsn("<outreach-7@acme.example>", status="4.4.1", action="delayed")))
    assert (found.permanent, found.status) == (False, "4.4.1")


def test_an_older_bounce_format_is_recognised_by_flufl_bounce():
    found = bounce(parsed(QMAIL))
    assert found.recipients == (CREATOR,) and found.permanent
    assert found.original_message_id == "<outreach-7@acme.example>"


def test_a_creators_mail_is_neither():
    mail = parsed(reply("Vacation content ideas? Happy to help #YesAcme"))
    assert bounce(mail) is None
    assert automatic_reply(mail) == ""
    assert automatic_reply(parsed(reply("ok", headers={"Auto-Submitted": "no"}))) == ""


@pytest.mark.parametrize(
    "headers",
    [{"Auto-Submitted": "auto-replied"}, {"X-Autoreply": "yes"}, {"X-Auto-Response-Suppress": "OOF"},
     {"Precedence": "auto_reply"}, {"List-Id": "<news.shop.example>"}, {"List-Unsubscribe": "<https://x/u>"}],
)  # fmt: skip
def test_automatic_reply_headers(headers):
    assert automatic_reply(parsed(reply("I am away", headers=headers)))
