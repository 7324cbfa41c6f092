"""Inputs Schemathesis found that once answered 500: each now gets a 400 naming the field."""

import pytest

from tests.api.conftest import api_for
from tests.factories import UserFactory
from tests.outreach.factories import SenderAccountFactory


@pytest.mark.django_db
def test_a_post_found_by_link_with_an_impossible_author_handle_is_a_field_error():
    client = api_for(UserFactory())
    sender = SenderAccountFactory(platform="tiktok")
    answer = client.post(
        "/api/v1/discovered-media/by-link/",
        {
            "username": "\u00cd\u00d3vL6\u0017o\u001e",
            "permalink": "https://www.tiktok.com/@x/video/1",
            "sender_account": sender.pk,
        },
        format="json",
    )
    assert answer.status_code == 400
    assert "not a valid tiktok handle" in answer.json()["username"][0]


@pytest.mark.django_db
def test_bulk_mark_sent_refuses_an_id_no_database_can_hold():
    client = api_for(UserFactory())
    answer = client.post("/api/v1/outreach-messages/mark-sent/", {"messages": [65537, 2**70, 198]}, format="json")
    assert answer.status_code == 400
    assert list(answer.json()["messages"]) == ["1"]
