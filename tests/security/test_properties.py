"""Property-based: whatever a client, a webhook sender or a spreadsheet sends, the answer is a 4xx or
a success, never a 5xx or a crash, and never a partial write. Hypothesis, derandomized and modest
(`max_examples` small) so the suite stays quick; the examples are chosen to hit the edges (odd
characters, wrong types, deep and wide values), not only random noise."""

import contextlib
import csv
import io
import json
import string
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.importer import KNOWN_COLUMNS, ImportFileError, import_creators
from crm.models import Campaign, Creator, SocialAccount, Tag
from outreach.models import MessageTemplate, SenderAccount
from outreach.webhooks import InboundMessage, PayloadError, meta, tiktok, x
from tests.api.conftest import api_for

pytestmark = pytest.mark.django_db
QUICK = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

ODD_TEXT = st.text(
    alphabet=st.sampled_from([*string.printable, "\x00", "\u2028", "é", "[", "]", "{", "=", "@", "\ud7ff", "😀"]),
    max_size=40,
)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | ODD_TEXT
JSON = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ODD_TEXT, inner, max_size=4), max_leaves=12
)


def shaped(keys: list[str]):
    """Objects using the names a parser or serializer looks for, with any values (or nested shapes)."""
    return st.recursive(
        SCALARS,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(keys) | ODD_TEXT, inner, max_size=6)
        ),
        max_leaves=20,
    )


# --- webhook parsers: any JSON is a list of messages or a PayloadError --------------------------------

META_KEYS = ["object", "entry", "id", "time", "messaging", "sender", "recipient", "timestamp", "message", "mid",
             "text", "is_echo", "read", "changes", "field", "value", "messages", "from", "contacts", "profile",
             "name", "wa_id", "metadata", "phone_number_id", "type", "instagram", "page",
             "whatsapp_business_account"]  # fmt: skip
X_KEYS = ["for_user_id", "direct_message_events", "type", "message_create", "id", "created_timestamp", "sender_id",
          "target", "recipient_id", "message_data", "text", "users", "screen_name", "name", "data", "event_type",
          "payload", "dm_conversation_id", "direct_message_mark_read_events", "last_read_event_id"]  # fmt: skip
TIKTOK_KEYS = ["event", "user_openid", "content", "create_time", "client_key", "im_receive_msg", "im_send_msg"]


@pytest.mark.parametrize(("parser", "keys"), [(meta.parse, META_KEYS), (x.parse, X_KEYS), (tiktok.parse, TIKTOK_KEYS)])
def test_webhook_parsers_never_crash(parser, keys):
    @QUICK
    @given(payload=shaped(keys) | JSON)
    def check(payload):
        try:
            messages = parser(payload)
        except PayloadError:
            return
        assert all(isinstance(message, InboundMessage) for message in messages)

    check()


TIKTOK_CONTENT = st.builds(
    json.dumps,
    st.fixed_dictionaries(
        {"event": st.sampled_from(["im_receive_msg", "im_send_msg", "im_mark_read_msg", "x"]), "content": shaped(
            ["from_user", "to_user", "id", "text", "body", "type", "message_id", "timestamp", "conversation_id"]
        ).map(json.dumps) | ODD_TEXT},
    ),
)  # fmt: skip


def test_tiktok_content_strings_never_crash():
    @QUICK
    @given(body=TIKTOK_CONTENT)
    def check(body):
        payload = json.loads(body)
        for function in (tiktok.parse, tiktok.event_id):
            with contextlib.suppress(PayloadError):
                function(payload)

    check()


def test_signed_webhook_bodies_get_a_2xx_or_4xx_over_http(client, settings_fixture):
    settings_fixture.META_APP_SECRET = settings_fixture.TIKTOK_APP_SECRET = settings_fixture.X_CONSUMER_SECRET = "s"

    @QUICK
    @given(payload=shaped(META_KEYS + X_KEYS + TIKTOK_KEYS) | JSON)
    def check(payload):
        body = json.dumps(payload).encode()
        answers = [
            client.post("/webhooks/meta/", body, content_type="application/json",
                        HTTP_X_HUB_SIGNATURE_256=meta.sign(body, "s")),
            client.post("/webhooks/x/", body, content_type="application/json",
                        HTTP_X_TWITTER_WEBHOOKS_SIGNATURE=x.sign(body, "s")),
            client.post("/webhooks/tiktok/", body, content_type="application/json",
                        HTTP_TIKTOK_SIGNATURE=tiktok.sign(body, "s", int(time.time()))),
        ]  # fmt: skip
        for answer in answers:
            assert answer.status_code < 500
            if not isinstance(payload, dict):
                assert answer.status_code == 400

    check()


@pytest.fixture
def settings_fixture(settings):
    return settings


# --- the API: any JSON body is a 4xx (nothing written) or a success (one row) ---------------------------

ENDPOINTS = [
    ("/api/v1/creators/", Creator, ["name", "email", "country", "language", "notes", "tags", "accounts", "platform",
                                    "handle", "follower_count"]),
    ("/api/v1/campaigns/", Campaign, ["name", "brand", "goal", "status", "starts_on", "ends_on", "approval_hashtag",
                                      "terms_url", "terms_version", "team"]),
    ("/api/v1/templates/", MessageTemplate, ["name", "platforms", "subject", "body", "whatsapp_template_name",
                                             "whatsapp_template_language"]),
    ("/api/v1/sender-accounts/", SenderAccount, ["name", "platform", "variant", "account_id", "access_token",
                                                 "api_base_url", "api_version", "from_name", "rate_per_second",
                                                 "daily_cap", "auto_reply_every_hours"]),
    ("/api/v1/social-accounts/", SocialAccount, ["creator", "platform", "handle", "follower_count"]),
    ("/api/v1/tags/", Tag, ["name"]),
]  # fmt: skip
VALUES = st.sampled_from(["instagram", "email", "x", "https://8.8.8.8/", "smtp://127.1:25", "Jane", "GB", "en", "",
                          "2026-01-01", 1, 0, -1, 2**70, None, [], {}, ["a"], "a" * 300]) | SCALARS  # fmt: skip


@pytest.mark.parametrize(("path", "model", "keys"), ENDPOINTS, ids=[e[0].split("/")[3] for e in ENDPOINTS])
def test_api_writes_are_whole_or_refused(alice, path, model, keys, settings):
    settings.ALLOW_INSECURE_PLATFORM_URLS = False
    api = api_for(alice)

    @QUICK
    @given(
        body=st.dictionaries(st.sampled_from(keys), VALUES | st.lists(VALUES, max_size=3), max_size=len(keys)) | JSON
    )
    def check(body):
        before = model.objects.count()
        answer = api.client.post(path, json.dumps(body), content_type="application/json")
        assert answer.status_code < 500, answer.content[:300]
        after = model.objects.count()
        if answer.status_code == 201:
            assert after == before + 1
        else:
            assert 400 <= answer.status_code < 500 and after == before

    check()


# --- the importer: refused whole (nothing written) or every row imported or rejected ----------------------

CELL = st.text(
    alphabet=st.sampled_from([*"abcXYZ019 ._-@;,|\"'\t\r\n[]{}=+/:", "\x00", "é", "\u2028", "\ufeff"]), max_size=20
)


@st.composite
def csv_files(draw):
    columns = draw(st.lists(st.sampled_from([*KNOWN_COLUMNS, "bogus"]), min_size=1, max_size=6, unique=True))
    rows = draw(st.lists(st.lists(CELL, min_size=len(columns), max_size=len(columns)), max_size=6))
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter)
    writer.writerow(columns)
    writer.writerows(rows)
    raw = text.getvalue().encode()
    if draw(st.booleans()):  # sometimes damage the bytes too
        position = draw(st.integers(0, len(raw)))
        raw = raw[:position] + draw(st.sampled_from([b"\x00", b"\xff", b"\xc3", b"\r", b'"'])) + raw[position:]
    return raw


def test_an_import_is_whole_or_refused():
    @QUICK
    @given(raw=csv_files())
    def check(raw):
        before = (Creator.objects.count(), SocialAccount.objects.count())
        try:
            result = import_creators(io.BytesIO(raw), batch_size=2)
        except ImportFileError:
            assert (Creator.objects.count(), SocialAccount.objects.count()) == before
            return
        imported = result.rows - result.rejected
        assert 0 <= result.rejected <= result.rows
        assert result.created + result.updated <= imported
        if imported:
            assert result.created + result.updated >= 1
        assert len({(r.line) for r in result.rejections}) == result.rejected

    check()
