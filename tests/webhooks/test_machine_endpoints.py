"""The webhook receivers skip the middleware that serves people (config/endpoints.py), and only they:
what every request needs still runs for them, and any view that does not say it is a machine
endpoint, even one under /webhooks/, goes through the whole chain."""

import pytest
from django.http import HttpResponse
from django.urls import path

from config.endpoints import machine_endpoint
from outreach.models import InboundEvent
from outreach.webhooks import meta
from tests.webhooks.test_receivers import META_SECRET, fixture, post_meta

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def secrets(settings):
    settings.META_APP_SECRET = META_SECRET


def test_a_delivery_is_answered_without_the_page_middleware(client):
    response = post_meta(client, fixture("meta/instagram_message.json"))
    assert response.status_code == 200 and response.json()["duplicate"] is False
    assert response["X-Request-ID"]  # config.logcontext: its log lines still name the request
    assert response["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware still runs
    assert "Content-Security-Policy" not in response and "X-Frame-Options" not in response
    assert not response.cookies  # no session saved, no CSRF cookie
    assert InboundEvent.objects.count() == 1


def test_a_page_still_gets_the_page_middleware(client):
    response = client.get("/login/")
    assert "Content-Security-Policy" in response and response["X-Frame-Options"] == "DENY"


def test_a_delivery_for_a_host_we_do_not_serve_is_refused_before_anything_is_stored(client):
    body = fixture("meta/instagram_message.json")
    response = client.post(
        "/webhooks/meta/",
        body,
        content_type="application/json",
        HTTP_HOST="attacker.example",
        HTTP_X_HUB_SIGNATURE_256=meta.sign(body, META_SECRET),
    )
    assert response.status_code == 400  # CommonMiddleware's ALLOWED_HOSTS check runs first
    assert not InboundEvent.objects.exists()


def test_plain_http_is_redirected_to_https_when_asked(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = post_meta(client, fixture("meta/instagram_message.json"))
    assert response.status_code == 301 and response["Location"].startswith("https://")
    assert not InboundEvent.objects.exists()


def test_an_unknown_path_under_the_prefix_is_the_usual_404(client):
    response = client.post("/webhooks/nowhere/", b"{}", content_type="application/json")
    assert response.status_code == 404
    assert "Content-Security-Policy" in response  # answered by the whole chain, as any 404


# Views mounted by the tests below (ROOT_URLCONF = this module).
def page_under_the_prefix(request):
    return HttpResponse(f"user={request.user.is_authenticated} session={request.session.session_key}")


@machine_endpoint
def marked_elsewhere(request):
    return HttpResponse("elsewhere")


urlpatterns = [
    path("webhooks/page/", page_under_the_prefix),
    path("machines/marked/", marked_elsewhere),
]


def test_a_view_under_the_prefix_that_is_not_marked_gets_the_whole_chain(client, settings):
    settings.ROOT_URLCONF = __name__
    response = client.get("/webhooks/page/")
    assert response.content == b"user=False session=None"  # the session and the user exist
    assert "Content-Security-Policy" in response and response["X-Frame-Options"] == "DENY"


def test_a_marked_view_outside_the_prefix_gets_the_whole_chain(client, settings):
    settings.ROOT_URLCONF = __name__
    response = client.get("/machines/marked/")
    assert response.content == b"elsewhere"
    assert "Content-Security-Policy" in response
