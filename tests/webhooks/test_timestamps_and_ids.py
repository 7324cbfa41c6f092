"""Small rules of the parsers: seconds versus milliseconds, TikTok delivery ids, X users maps."""

import datetime
import json

import pytest

from outreach.webhooks import InboundMessage, PayloadError, from_timestamp, meta, meta_comments, tiktok, x

MOMENT = datetime.datetime(2025, 11, 26, 10, 37, tzinfo=datetime.UTC)


@pytest.mark.parametrize("value", [1764153420, "1764153420", 1764153420000, "1764153420000", 1764153420000.0])
def test_seconds_and_milliseconds_are_told_apart(value):
    assert from_timestamp(value) == MOMENT


def test_a_timestamp_that_is_not_one_names_itself():
    with pytest.raises(PayloadError, match="Not a timestamp: 'soon'"):
        from_timestamp("soon")


def test_a_changes_shaped_instagram_event_in_seconds_is_not_1970():
    payload = {
        "object": "instagram",
        "entry": [{"id": "1", "time": 1764153420, "changes": [{"field": "messages", "value": {
            "sender": {"id": "2"}, "recipient": {"id": "1"}, "timestamp": "1764153420",
            "message": {"mid": "m", "text": "hi"}}}]}],
    }  # fmt: skip
    [message] = meta.parse(payload)
    assert message.at == MOMENT and message.test is True


def test_comment_fields_are_left_to_the_comments_module():
    payload = {"object": "instagram", "entry": [{"id": "1", "time": 1, "changes": [
        {"field": field, "value": {"id": "c", "text": "nice"}} for field in ("comments", "live_comments", "mentions")
    ]}]}  # fmt: skip
    # No direct message comes out of them; what does is the comments module's (outreach/webhooks/meta_comments.py).
    parsed = meta.parse(payload)
    assert not [event for event in parsed if isinstance(event, InboundMessage)]
    assert all(isinstance(event, meta_comments.InboundComment) for event in parsed)


def receipt(last_read: int) -> dict:
    content = {
        "conversation_id": "c1",
        "message_id": "m9",
        "timestamp": last_read + 5,
        "read": {"last_read_timestamp": last_read},
        "from_user": {"id": "u1"},
        "to_user": {"id": "b"},
    }
    return {"event": "im_mark_read_msg", "user_openid": "b", "content": json.dumps(content)}


def test_tiktok_read_receipts_naming_the_same_message_get_different_delivery_ids():
    assert tiktok.event_id(receipt(1764159555000)) != tiktok.event_id(receipt(1764159655000))
    assert tiktok.event_id(receipt(1764159555000)) == tiktok.event_id(receipt(1764159555000))


def test_x_users_map_in_both_shapes():
    v1 = {"2": {"id": "2", "screen_name": "NinaCosta", "name": "Nina Costa"}}
    v2 = {"2": {"data": {"id": "2", "username": "NinaCosta", "name": "Nina Costa"}}}
    assert x.user_profile(v1, "2")["username"] == x.user_profile(v2, "2")["username"] == "NinaCosta"
    assert x.user_profile({}, "3") == {"id": "3", "name": "", "username": "", "profile_image_url": ""}
