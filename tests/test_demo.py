import pytest
from django.contrib.auth import authenticate

from crm import services
from crm.demo import DEMO_PASSWORD, DEMO_USERNAME, seed_demo
from crm.models import Campaign, ConsentEvent, Content, Creator, PermissionRequest, SocialAccount
from tests.conftest import run_manage

pytestmark = pytest.mark.django_db


def counts():
    return [
        model.objects.count() for model in (Creator, SocialAccount, Campaign, Content, PermissionRequest, ConsentEvent)
    ]


def test_the_demo_is_believable_and_loads_once():
    assert seed_demo() is True
    first = counts()
    assert seed_demo() is False
    assert counts() == first
    assert set(Campaign.objects.values_list("status", flat=True)) == {"active", "draft", "completed"}
    assert set(PermissionRequest.objects.values_list("status", flat=True)) == set(PermissionRequest.Status.values)
    assert set(SocialAccount.objects.values_list("platform", flat=True)) >= {"instagram", "tiktok", "x", "youtube"}
    assert Creator.objects.filter(opted_out_at__isnull=False).count() == 1
    for creator in Creator.objects.filter(consent_events__isnull=False).distinct():
        assert services.verify_ledger(creator) == []
    for request in PermissionRequest.objects.all():
        assert request.status == services.derive_permission_status(request)


def test_the_demo_login_works():
    seed_demo()
    user = authenticate(username=DEMO_USERNAME, password=DEMO_PASSWORD)
    assert user is not None and user.is_superuser


def test_the_command_refuses_production_without_force():
    env = {
        "DJANGO_ENV": "production",
        "SECRET_KEY": "a" * 60,
        "ALLOWED_HOSTS": "crm.example.com",
        "ENCRYPTION_KEYS": "Kx1v8n3Y4dQh4Y7mJjfzq3E2p0T2X5a8b9c0d1e2f3g=",
        "PUBLIC_URL": "https://crm.example.com",
    }
    result = run_manage("seed_demo", env=env)
    assert result.returncode == 1
    assert "Refusing to load demo data" in result.stderr
