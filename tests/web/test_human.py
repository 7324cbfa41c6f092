"""Human words everywhere: follower counts, dates in the reader's time zone, scope in words, and the
styled 404 and 500 pages (JSON under /api/)."""

import datetime

import pytest
from django.test import RequestFactory
from django.utils import timezone

from crm.api.errors import server_error
from tests.factories import CreatorFactory, SocialAccountFactory
from web.middleware import reader_zone
from web.templatetags.human import followers, number, when

pytestmark = pytest.mark.django_db


def test_follower_counts_read_like_people_say_them():
    assert [followers(n) for n in [0, 950, 1000, 1234, 23_400, 999_999, 1_200_000, None]] == [
        "0", "950", "1k", "1.2k", "23.4k", "1M", "1.2M", "",
    ]  # fmt: skip


def test_dates_are_in_the_readers_time_zone(alice_client):
    moment = datetime.datetime(2027, 5, 30, 16, 47, tzinfo=datetime.UTC)
    assert when(moment) == "30 May 2027, 16:47"
    with timezone.override(reader_zone("Europe/Berlin")):
        assert when(moment) == "30 May 2027, 18:47"
    assert when("2027-05-30T16:47:12.5+00:00") == "30 May 2027, 16:47" and when("soon") == "soon"
    assert [number(n) for n in [None, 7, 12_345, 100_000]] == ["0", "7", "12,345", "100,000"]
    assert reader_zone("../../etc/passwd") is None and reader_zone("Mars/Olympus") is None
    creator = CreatorFactory(name="Maya Hart")
    SocialAccountFactory(creator=creator, follower_count=23_400)
    alice_client.cookies["tz"] = "Europe/Berlin"
    page = alice_client.get(f"/creators/{creator.pk}/").content.decode()
    assert "23.4k" in page
    alice_client.cookies["tz"] = "not a zone"
    assert alice_client.get(f"/creators/{creator.pk}/").status_code == 200


def test_a_styled_404_with_the_navigation_and_json_under_the_api(alice_client):
    page = alice_client.get("/no-such-page/")
    assert page.status_code == 404
    html = page.content.decode()
    assert "This page is not here" in html and 'href="/creators/"' in html and "Sign out" in html
    api = alice_client.get("/api/v1/no-such-thing/")
    assert api.status_code == 404 and api.json() == {"detail": "Not found."}


def test_a_styled_500_and_json_under_the_api(alice):
    request = RequestFactory().get("/creators/")
    request.user = alice
    response = server_error(request)
    assert response.status_code == 500 and "Something went wrong on our side" in response.content.decode()
    assert "Sign out" in response.content.decode()
    api = server_error(RequestFactory().get("/api/v1/creators/"))
    assert api.status_code == 500 and b"detail" in api.content
