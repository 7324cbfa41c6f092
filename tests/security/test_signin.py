"""The pages are as safe as the API: sign-in throttled per account and client, password-reset mails
limited, a two-factor code for whoever set one up; the API's token authentication is unaffected."""

import base64
import re

import pytest
from django.core import mail
from django.core.cache import cache
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from crm import services
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_counts(settings):
    cache.clear()
    settings.AXES_FAILURE_LIMIT = 3
    yield
    cache.clear()


def sign_in(client, username, password, ip="203.0.113.5", **extra):
    return client.post("/login/", {"username": username, "password": password, **extra}, REMOTE_ADDR=ip)


def test_failed_sign_ins_lock_the_account_from_that_client_even_with_the_right_password(client, alice):
    for _ in range(2):
        assert sign_in(client, "alice", "wrong").status_code == 200
    assert sign_in(client, "alice", "wrong").status_code == 429  # the third failure locks
    locked = sign_in(client, "alice", "password")
    assert locked.status_code == 429
    assert b"Too many failed sign-ins" in locked.content and b"<form" in locked.content  # the login page
    assert "_auth_user_id" not in client.session
    # Another client is not locked out by the attacker's failures (no denial of service by username).
    assert sign_in(client, "alice", "password", ip="198.51.100.7").status_code == 302


def test_a_success_resets_the_count(client, alice):
    for _ in range(2):
        sign_in(client, "alice", "wrong")
    assert sign_in(client, "alice", "password").status_code == 302
    client.post("/logout/")
    for _ in range(2):
        assert sign_in(client, "alice", "wrong").status_code == 200
    assert sign_in(client, "alice", "password").status_code == 302


def test_the_admin_signs_in_through_the_same_throttled_page(client, admin_user_persona):
    answer = client.get("/admin/login/?next=/admin/")
    assert answer.status_code == 302 and answer["Location"] == "/login/?next=/admin/"


def test_the_api_token_is_unaffected_by_a_locked_out_page_sign_in(client, alice):
    key = services.create_api_token(alice, name="tool", role="manager")[1]
    for _ in range(4):
        sign_in(client, "alice", "wrong")
    assert sign_in(client, "alice", "password").status_code == 429
    answer = client.get("/api/v1/creators/", HTTP_AUTHORIZATION=f"Token {key}")
    assert answer.status_code == 200


# --- password reset -------------------------------------------------------------------------------


def test_password_reset_mails_are_limited_per_address_and_the_answer_never_changes(client, alice, settings):
    settings.PASSWORD_RESET_PER_ADDRESS = 2
    answers = [
        client.post("/password-reset/", {"email": "alice@example.com"}, REMOTE_ADDR=f"198.51.100.{n}") for n in range(5)
    ]
    assert len(mail.outbox) == 2
    assert {(a.status_code, a["Location"]) for a in answers} == {(302, "/password-reset/sent/")}


def test_password_reset_requests_are_limited_per_client(client, settings):
    settings.PASSWORD_RESET_PER_CLIENT = 3
    for n in range(6):
        UserFactory(username=f"u{n}", email=f"u{n}@example.com")
    answers = [client.post("/password-reset/", {"email": f"u{n}@example.com"}) for n in range(6)]
    assert len(mail.outbox) == 3
    assert {a.status_code for a in answers} == {302}
    unknown = client.post("/password-reset/", {"email": "nobody@example.com"})
    assert (unknown.status_code, unknown["Location"]) == (302, "/password-reset/sent/")


def test_the_reset_link_points_at_public_url_whatever_the_host_header(client, alice, settings):
    settings.PUBLIC_URL = "https://crm.example"
    client.post("/password-reset/", {"email": "alice@example.com"}, HTTP_HOST="localhost:8000")
    assert "https://crm.example/password-reset/" in mail.outbox[0].body
    assert "localhost" not in mail.outbox[0].body


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example/"])
def test_sign_in_never_redirects_off_site(client, alice, target):
    answer = sign_in(client, "alice", "password", next=target)
    assert answer.status_code == 302 and answer["Location"] == "/"


# --- two-factor sign-in ---------------------------------------------------------------------------


def current_code(device: TOTPDevice, offset: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


def forget_failures(device: TOTPDevice) -> None:
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    device.refresh_from_db()


def set_up_two_factor(client, user) -> TOTPDevice:
    client.force_login(user)
    page = client.get("/account/two-factor/")
    assert page.status_code == 200 and b"Key:" in page.content
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    shown = re.search(rb'id="totp-secret">([A-Z2-7 ]+)<', page.content).group(1).decode().replace(" ", "")

    assert base64.b32decode(shown + "=" * (-len(shown) % 8)) == device.bin_key  # the page shows the real key
    assert client.post("/account/two-factor/", {"otp_token": "000000" if current_code(device) != "000000" else "1"})
    device.refresh_from_db()
    assert not device.confirmed  # a wrong code confirms nothing
    forget_failures(device)  # the device refuses any code for a moment after a wrong one (its own throttle)
    assert client.post("/account/two-factor/", {"otp_token": current_code(device)}).status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    client.post("/logout/")
    return device


def test_an_admin_with_a_confirmed_device_must_give_the_code(client, admin_user_persona):
    device = set_up_two_factor(client, admin_user_persona)
    without = sign_in(client, "root", "password")
    assert without.status_code == 200 and b"Enter the 6-digit code" in without.content
    assert "_auth_user_id" not in client.session
    wrong = sign_in(client, "root", "password", otp_token="123456" if current_code(device) != "123456" else "654321")
    assert wrong.status_code == 200 and b"not right" in wrong.content
    assert "_auth_user_id" not in client.session
    forget_failures(device)
    replayed = sign_in(client, "root", "password", otp_token=current_code(device))  # the code used at setup
    assert replayed.status_code == 200 and "_auth_user_id" not in client.session
    forget_failures(device)
    right = sign_in(client, "root", "password", otp_token=current_code(device, offset=1))  # the next step's code
    assert right.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_wrong_codes_count_towards_the_lockout(client, admin_user_persona):
    device = set_up_two_factor(client, admin_user_persona)
    bad = "111111" if current_code(device) != "111111" else "222222"
    for _ in range(3):
        sign_in(client, "root", "password", otp_token=bad)
    forget_failures(device)  # so the lockout, not the device's own throttle, is what refuses
    assert sign_in(client, "root", "password", otp_token=current_code(device)).status_code == 429


def test_without_a_device_nothing_changes(client, alice):
    assert sign_in(client, "alice", "password").status_code == 302
