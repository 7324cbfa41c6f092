"""Every model has a working admin: lists, search, filters and change pages load with demo data."""

import pytest
from django.urls import reverse

from crm.demo import seed_demo
from crm.models import Campaign, ConsentEvent, Creator, PermissionRequest
from outreach import demo_comments
from outreach.demo import setup_demo
from tests.database import kept_for_module
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MODELS = [
    "evidencetext",
    "accessrole",
    "apitoken",
    "tag",
    "creator",
    "socialaccount",
    "campaign",
    "campaignmember",
    "content",
    "permissionrequest",
    "consentevent",
]


@pytest.fixture(scope="module")
def demo_world(django_db_setup, django_db_blocker):
    """The demo, its sandbox senders and its commented post, and a superuser: made once for the module
    (seeding the demo is most of a test's time) and rolled back after it; each test's own changes are
    rolled back after the test."""
    with kept_for_module(django_db_blocker):
        seed_demo()
        sender = setup_demo(
            {"meta": "http://127.0.0.1:1", "x": "http://127.0.0.1:1", "tiktok": "http://127.0.0.1:1", "smtp": ""}
        )[0]
        demo_comments.seed_comment_demo(sender)
        yield UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_user_persona(demo_world, db):
    return demo_world


@pytest.fixture
def staff_client(client, admin_user_persona):
    client.force_login(admin_user_persona)
    return client


@pytest.mark.parametrize("model", MODELS)
def test_each_admin_list_search_and_change_page_loads(staff_client, model, django_assert_max_num_queries):
    url = reverse(f"admin:crm_{model}_changelist")
    with django_assert_max_num_queries(20):
        assert staff_client.get(url).status_code == 200
    assert staff_client.get(url, {"q": "a"}).status_code == 200
    from django.apps import apps

    obj = apps.get_model("crm", model).objects.first()
    if obj is None:  # roles and tokens: none in the demo
        return
    assert staff_client.get(reverse(f"admin:crm_{model}_change", args=[obj.pk])).status_code == 200


def test_creator_list_filters_by_status_and_opt_out(staff_client):
    url = reverse("admin:crm_creator_changelist")
    page = staff_client.get(url, {"opted_out_at__isempty": "0"})
    opted_out = Creator.objects.filter(opted_out_at__isnull=False).get()
    assert opted_out.name.encode() in page.content
    assert staff_client.get(url, {"status__exact": "partner"}).status_code == 200


def test_a_sent_permission_request_cannot_be_edited_in_the_admin(staff_client):
    sent = PermissionRequest.objects.exclude(status="draft").first()
    url = reverse("admin:crm_permissionrequest_change", args=[sent.pk])
    page = staff_client.get(url)
    assert b'name="terms_text"' not in page.content
    staff_client.post(url, {"terms_text": "rewritten", "territory": "Mars"})
    sent.refresh_from_db()
    assert sent.territory != "Mars"
    delete = reverse("admin:crm_permissionrequest_delete", args=[sent.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403


def test_the_admin_can_create_a_campaign_and_reports_bad_fields(staff_client):
    url = reverse("admin:crm_campaign_add")
    page = staff_client.post(
        url,
        {
            "name": "Autumn",
            "brand": "Acme",
            "status": "draft",
            "approval_hashtag": "yes acme",
            "starts_on": "2026-10-02",
            "ends_on": "2026-10-01",
            "members-TOTAL_FORMS": "0",
            "members-INITIAL_FORMS": "0",
        },
    )
    assert page.status_code == 200
    assert b"An approval hashtag is # followed by" in page.content
    assert b"A campaign cannot end before it starts." in page.content
    assert not Campaign.objects.filter(name="Autumn").exists()
    assert ConsentEvent.objects.exists()


OUTREACH_MODELS = [
    "messagetemplate", "sequence", "senderaccount", "conversation", "outreachmessage", "inboundevent",
    "conversationmessage", "followuptask",
]  # fmt: skip


@pytest.mark.parametrize("model", OUTREACH_MODELS)
def test_each_outreach_admin_list_loads(staff_client, model, django_assert_max_num_queries):
    with django_assert_max_num_queries(20):
        assert staff_client.get(reverse(f"admin:outreach_{model}_changelist")).status_code == 200


def test_a_sender_token_is_written_once_and_never_shown(staff_client):
    from outreach.models import SenderAccount

    page = staff_client.post(
        reverse("admin:outreach_senderaccount_add"),
        {"name": "Acme IG", "platform": "instagram", "variant": "instagram_login", "account_id": "1784",
         "new_access_token": "IGAA-very-secret", "api_version": "v25.0", "breaker_state": "closed",
         "auto_reply_every_hours": "24"},
    )  # fmt: skip
    assert page.status_code == 302, page.content.decode()[:2000]
    sender = SenderAccount.objects.get(name="Acme IG")
    assert sender.access_token == "IGAA-very-secret"
    change = staff_client.get(reverse("admin:outreach_senderaccount_change", args=[sender.pk]))
    assert b"IGAA-very-secret" not in change.content


def test_an_api_token_is_revoked_from_the_admin(staff_client, admin_user_persona):
    from crm import services
    from crm.models import ApiToken

    token, _ = services.create_api_token(admin_user_persona, name="sync")
    response = staff_client.post(
        reverse("admin:crm_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    assert ApiToken.objects.get().revoked_at is not None


@pytest.mark.parametrize(
    "model", ["brandpost", "comment", "privatereply", "discoveredmedia", "commentrightsrequest", "keywordrule",
              "hashtagsearch"],
)  # fmt: skip
def test_each_comment_admin_list_searches(staff_client, model):
    assert staff_client.get(f"/admin/outreach/{model}/?q=a").status_code == 200
