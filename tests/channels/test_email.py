"""The email adapter over real SMTP to SmtpSink, through Django's SMTP backend."""

from outreach.channels import email
from outreach.channels.base import Outbound, Outcome, SenderConfig
from outreach.sandbox.smtp import SmtpSink
from tests.fakes.smtp import BRAND_FROM, email_config

CREATOR_EMAIL = "alice@creator.example"
UNSUBSCRIBE_URL = "https://crm.brand.example/u/8f3a1c"


def outbound(**fields) -> Outbound:
    values = {
        "recipient_id": CREATOR_EMAIL,
        "text": "Hi Alice,\nwe loved your camera reviews. Paid collab?",
        "subject": "Collab with Brand",
        "idempotency_key": "outbox-42",
        "unsubscribe_url": UNSUBSCRIBE_URL,
        "from_name": "Brand Partnerships",
    }
    return Outbound(**{**values, **fields})


def send(config, **fields):
    return email.build(config).send(outbound(**fields))


def test_it_sends_with_the_envelope_and_headers_a_bulk_sender_needs(smtp_sink):
    result = send(email_config(smtp_sink))

    assert result.outcome == Outcome.SENT
    [mail] = smtp_sink.messages
    assert mail.mail_from == BRAND_FROM
    assert mail.rcpt_tos == (CREATOR_EMAIL,)
    assert mail["From"] == "Brand Partnerships <outreach@brand.example>"
    assert mail["To"] == CREATOR_EMAIL
    assert mail["Subject"] == "Collab with Brand"
    assert mail["List-Unsubscribe"] == f"<{UNSUBSCRIBE_URL}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["In-Reply-To"] is None
    assert mail["References"] is None


def test_it_sets_a_message_id_on_the_sender_domain_and_returns_it(smtp_sink):
    result = send(email_config(smtp_sink))

    [mail] = smtp_sink.messages
    assert mail["Message-ID"] == result.provider_message_id
    assert result.provider_message_id.startswith("<")
    assert result.provider_message_id.endswith(".outbox-42@brand.example>")
    assert result.details["message_id"] == result.provider_message_id


def test_it_gives_every_send_a_unique_message_id(smtp_sink):
    config = email_config(smtp_sink)

    first = send(config)
    second = send(config)

    assert first.provider_message_id != second.provider_message_id
    assert [mail["Message-ID"] for mail in smtp_sink.messages] == [
        first.provider_message_id,
        second.provider_message_id,
    ]


def test_it_shows_the_unsubscribe_link_in_the_text_and_html_parts(smtp_sink):
    send(email_config(smtp_sink))

    [mail] = smtp_sink.messages
    text = mail.message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = mail.message.get_body(("html",)).get_content()
    assert text == (
        "Hi Alice,\nwe loved your camera reviews. Paid collab?\n\n"
        f"-- \nTo stop receiving these emails, unsubscribe: {UNSUBSCRIBE_URL}\n"
    )
    assert "<p>Hi Alice,<br>we loved your camera reviews. Paid collab?</p>" in html
    assert f'<a href="{UNSUBSCRIBE_URL}">unsubscribe</a>' in html


def test_it_threads_a_follow_up_under_the_previous_message(smtp_sink):
    parent = "<171.1.2.outbox-41@brand.example>"

    send(email_config(smtp_sink), reply_to_message_id=parent, subject="Re: Collab with Brand")

    [mail] = smtp_sink.messages
    assert mail["In-Reply-To"] == parent
    assert mail["References"] == parent
    assert mail["Subject"] == "Re: Collab with Brand"


def test_it_refuses_to_send_without_an_unsubscribe_url(smtp_sink):
    result = send(email_config(smtp_sink), unsubscribe_url="")

    assert result.outcome == Outcome.REJECTED
    assert result.error_code == "no_unsubscribe_url"
    assert smtp_sink.messages == []


def test_it_refuses_an_address_that_is_not_one(smtp_sink):
    result = send(email_config(smtp_sink), recipient_id="alice at creator")

    assert result.outcome == Outcome.INVALID_RECIPIENT
    assert result.error_code == "invalid_address"
    assert smtp_sink.messages == []


def test_it_reports_a_hard_bounce_as_an_invalid_recipient(smtp_sink):
    smtp_sink.bounce(CREATOR_EMAIL)

    result = send(email_config(smtp_sink))

    assert result.outcome == Outcome.INVALID_RECIPIENT
    assert result.error_code == "550"
    assert result.error_message.startswith("5.1.1 <alice@creator.example>: Recipient address rejected")
    assert smtp_sink.messages == []


def test_it_retries_a_greylisted_recipient(smtp_sink):
    smtp_sink.fail_next(code=451, at="rcpt")
    config = email_config(smtp_sink)

    greylisted = send(config)
    later = send(config)

    assert greylisted.outcome == Outcome.RETRY
    assert greylisted.error_code == "451"
    assert later.outcome == Outcome.SENT
    assert len(smtp_sink.messages) == 1


def test_it_retries_a_temporary_failure_after_data(smtp_sink):
    smtp_sink.fail_next(code=421, at="data")

    result = send(email_config(smtp_sink))

    assert result.outcome == Outcome.RETRY
    assert result.error_code == "421"
    assert smtp_sink.messages == []


def test_it_retries_when_the_server_hangs_up_before_the_message_went_out(smtp_sink):
    smtp_sink.disconnect_next()

    result = send(email_config(smtp_sink))

    assert result.outcome == Outcome.RETRY
    assert result.error_code == "SMTPServerDisconnected"
    assert smtp_sink.messages == []


def test_it_is_uncertain_when_no_answer_comes_after_the_message_went_out(smtp_sink):
    smtp_sink.delay_next(1.5)

    result = send(email_config(smtp_sink, timeout=(0.3, 0.3)))

    assert result.outcome == Outcome.UNCERTAIN
    assert result.error_code == "SMTPServerDisconnected"
    assert len(smtp_sink.messages) == 1  # the server has it: resending would duplicate


def test_it_retries_when_the_connection_is_refused():
    config = SenderConfig(platform="email", base_url="smtp://127.0.0.1:1", account_id=BRAND_FROM, timeout=(0.3, 0.3))

    result = email.build(config).send(outbound())

    assert result.outcome == Outcome.RETRY
    assert result.error_code == "ConnectionRefusedError"


def test_it_logs_in_with_the_credentials_in_the_url():
    with SmtpSink(users={"outreach": "s3cret"}) as sink:
        config = email_config(sink, base_url=f"smtp://outreach:s3cret@{sink.host}:{sink.port}")

        result = send(config)

        assert result.outcome == Outcome.SENT
        assert len(sink.messages) == 1


def test_it_reports_rejected_credentials_as_auth_broken():
    with SmtpSink(users={"outreach": "s3cret"}) as sink:
        config = email_config(sink, base_url=f"smtp://outreach:wrong@{sink.host}:{sink.port}")

        result = send(config)

        assert result.outcome == Outcome.AUTH_BROKEN
        assert result.error_code == "SMTPAuthenticationError"
        assert sink.messages == []


def test_it_uses_the_backend_from_settings_without_an_smtp_url(mailoutbox):
    config = SenderConfig(platform="email", base_url="", account_id=BRAND_FROM)

    result = send(config)

    assert result.outcome == Outcome.SENT
    [sent] = mailoutbox
    assert sent.extra_headers["Message-ID"] == result.provider_message_id
    assert sent.to == [CREATOR_EMAIL]
