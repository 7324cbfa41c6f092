"""Signing in and out, password reset by email, and roles on every page."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from tests.web.conftest import screenshot, sign_in

pytestmark = pytest.mark.django_db


def test_it_sends_anonymous_visitors_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/")


def test_it_signs_in_and_out(client, alice):
    response = client.post("/login/", {"username": "alice", "password": "password"})
    assert response.status_code == 302 and response["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200 and b"Sign out" in page.content
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_it_names_the_problem_with_a_wrong_password(client, alice):
    response = client.post("/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert b"enter a correct username and password" in response.content


def test_it_resets_a_password_by_email(client, alice):
    response = client.post("/password-reset/", {"email": "alice@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/password-reset/[^/]+/[^/]+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200 and b"Choose a new password" in form.content
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "a new long secret 42", "new_password2": "a new long secret 42"}
    )
    assert done.status_code == 302
    assert client.login(username="alice", password="a new long secret 42")


def test_it_shows_the_role_and_no_write_controls_to_viewers(viewer_client):
    response = viewer_client.get("/")
    assert response.status_code == 200
    assert response.context["role"] == "viewer" and response.context["can_write"] is False


def test_it_refuses_writes_from_viewers(viewer_client):
    assert viewer_client.post(reverse("web:creator_bulk"), {"action": "tag", "tag": "x"}).status_code == 403


def test_it_links_every_nav_entry_to_a_page(alice_client):
    response = alice_client.get("/")
    for href in re.findall(r'<nav aria-label="Main">.*?</nav>', response.content.decode(), re.S)[0].split('href="')[1:]:
        url = href.split('"')[0]
        assert alice_client.get(url).status_code == 200, url


def test_it_signs_in_in_a_real_browser(browser_page, alice):
    page = browser_page
    page.goto("/")
    assert "/login/" in page.url
    screenshot(page, "sign-in")
    sign_in(page, "alice")
    assert page.get_by_role("heading", name="Dashboard").is_visible()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login/")


def test_it_answers_favicon_requests_with_our_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"] == "/static/web/favicon.svg"
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    icon.close()  # whitenoise streams the file


PAGES = ["/", "/creators/", "/creators/1/", "/creators/import/", "/creators/import/1/", "/campaigns/",
         "/campaigns/new/", "/campaigns/1/", "/campaigns/1/launch/"]  # fmt: skip


@pytest.mark.parametrize("url", PAGES)
def test_it_sends_anonymous_visitors_of_every_page_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")
    assert client.post(url).status_code == 302


def test_it_shows_viewers_no_write_pages(viewer_client, viewer):
    from tests.factories import CampaignFactory

    campaign = CampaignFactory(owner=viewer)
    for url in ["/creators/import/", "/campaigns/new/", f"/campaigns/{campaign.pk}/launch/"]:
        assert viewer_client.get(url).status_code == 403, url
    for url in ["/", "/creators/", "/campaigns/", f"/campaigns/{campaign.pk}/"]:
        html = viewer_client.get(url).content.decode()
        for control in ["New campaign", "Import a CSV file", "Launch outreach", 'name="action"', ">Move<"]:
            assert control not in html, (url, control)
