"""A person's time zone: chosen on their settings page from the zoneinfo list (with pycountry's country
names), remembered across sign-ins, applied by the middleware to every date on the pages, without a
query per page; settings.TIME_ZONE when nothing says otherwise."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from outreach.models import Conversation, ConversationMessage
from tests.factories import CreatorFactory
from tests.outreach.factories import SenderAccountFactory
from web import preferences
from web.models import Preferences

pytestmark = pytest.mark.django_db
MOMENT = datetime.datetime(2027, 5, 30, 16, 47, tzinfo=datetime.UTC)


@pytest.fixture
def conversation_url():
    conversation = Conversation.objects.create(
        creator=CreatorFactory(name="Maya Hart"), platform="instagram", sender_account=SenderAccountFactory()
    )
    ConversationMessage.objects.create(
        conversation=conversation, platform="instagram", direction="in", text="Hello!", at=MOMENT,
        platform_message_id="mid.tz.1",
    )  # fmt: skip
    return f"/inbox/{conversation.pk}/"


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_list_names_zones_with_their_country():
    choices = dict(preferences.zone_choices())
    assert choices["Europe/Berlin"] == "Europe/Berlin (Germany)"
    assert "America/New York (United States)" in choices.values() and "UTC" in choices
    assert not any(zone.startswith(("Etc/", "posix")) for zone in choices)


def test_an_unknown_zone_is_refused_by_field(alice):
    with pytest.raises(ValidationError, match="not a time zone we know"):
        preferences.set_time_zone(alice, "Mars/Olympus")
    assert not Preferences.objects.exists()


def test_the_chosen_zone_shows_on_every_page_and_outranks_the_browser(alice, conversation_url):
    client = signed_in(alice)
    client.cookies["tz"] = "Asia/Tokyo"
    assert "31 May 2027, 01:47" in client.get(conversation_url).content.decode()  # the browser's zone
    page = client.get("/account/settings/").content.decode()
    assert 'id="id_time_zone"' in page and "Europe/Berlin (Germany)" in page
    saved = client.post("/account/settings/", {"time_zone": "Europe/Berlin"}, follow=True).content.decode()
    assert "Saved: dates are shown in Europe/Berlin." in saved
    assert "30 May 2027, 18:47" in client.get(conversation_url).content.decode()
    # Signed in again elsewhere: the zone comes with them (from the sign-in, not a query per page).
    again = signed_in(alice)
    assert "30 May 2027, 18:47" in again.get(conversation_url).content.decode()
    bad = client.post("/account/settings/", {"time_zone": "Nowhere/Land"})
    assert bad.status_code == 200 and "time_zone" in bad.context["form"].errors


@override_settings(TIME_ZONE="America/New_York")
def test_without_a_choice_or_a_cookie_dates_are_in_settings_time_zone(alice, conversation_url):
    assert "30 May 2027, 12:47" in signed_in(alice).get(conversation_url).content.decode()


def test_a_viewer_sets_their_own_zone(viewer, conversation_url):
    client = signed_in(viewer)
    assert client.post("/account/settings/", {"time_zone": "Asia/Kolkata"}).status_code == 302
    assert Preferences.objects.get(user=viewer).time_zone == "Asia/Kolkata"
    assert "30 May 2027, 22:17" in client.get(conversation_url).content.decode()


def test_the_zone_costs_no_query_per_page(alice, conversation_url):
    def count(client):
        client.get(conversation_url)  # warm up
        with CaptureQueriesContext(connection) as queries:
            assert client.get(conversation_url).status_code == 200
        return len(queries)

    plain = count(signed_in(alice))
    preferences.set_time_zone(alice, "Europe/Berlin")
    assert count(signed_in(alice)) == plain


def test_a_session_from_before_the_setting_looks_it_up_once(alice, conversation_url):
    client = signed_in(alice)
    session = client.session
    del session[preferences.SESSION_KEY]
    session.save()
    Preferences.objects.create(user=alice, time_zone="Europe/Berlin")
    assert "30 May 2027, 18:47" in client.get(conversation_url).content.decode()
    assert client.session[preferences.SESSION_KEY] == "Europe/Berlin"
