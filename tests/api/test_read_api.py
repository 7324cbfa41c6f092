"""The read API: tokens, roles, visibility, lookups other tools need, constant queries, schema."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm import services
from crm.models import ApiToken, Creator
from tests.factories import (
    CampaignFactory,
    ContentFactory,
    CreatorFactory,
    PermissionRequestFactory,
    SocialAccountFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def token_for(user, role="manager"):
    return services.create_api_token(user, name="test", role=role)[1]


def get(client, path, key, **params):
    return client.get(path, params, HTTP_AUTHORIZATION=f"Token {key}")


def test_createapitoken_shows_the_key_once_and_stores_only_its_hash(alice):
    out, err = io.StringIO(), io.StringIO()
    call_command("createapitoken", "--username", "alice", "--role", "viewer", stdout=out, stderr=err)
    key = out.getvalue().strip()
    token = ApiToken.objects.get()
    assert key.startswith("crm_") and token.key_sha256 == ApiToken.digest(key) and key not in token.key_sha256
    assert alice.access_role.role == "viewer"
    assert "shown only now" in err.getvalue()


def test_missing_wrong_revoked_and_expired_tokens_are_refused(client, alice):
    assert client.get("/api/v1/creators/").status_code == 401
    assert get(client, "/api/v1/creators/", "crm_nope").status_code == 401
    token, key = services.create_api_token(alice, name="t")
    assert get(client, "/api/v1/creators/", key).status_code == 200
    services.revoke_api_token(token)
    assert get(client, "/api/v1/creators/", key).json() == {"detail": "This token is unknown, revoked or expired."}
    _, expired = services.create_api_token(alice, name="t", expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert get(client, "/api/v1/creators/", expired).status_code == 401


def test_viewers_read_but_cannot_write_and_the_ledger_refuses_writes(client, alice):
    viewer = token_for(alice, role="viewer")
    assert get(client, "/api/v1/consent-events/", viewer).status_code == 200
    assert client.post("/api/v1/creators/", {}, HTTP_AUTHORIZATION=f"Token {viewer}").status_code == 403
    manager = token_for(UserFactory(username="mia"), role="manager")
    assert client.post("/api/v1/consent-events/", {}, HTTP_AUTHORIZATION=f"Token {manager}").status_code == 405


def test_an_outsider_does_not_find_another_teams_campaign(client, alice, bob, charlie, campaign):
    request = PermissionRequestFactory(campaign=campaign, content__campaign=campaign)
    for user, found in [(alice, 200), (bob, 200), (charlie, 404)]:
        key = token_for(user)
        assert get(client, f"/api/v1/campaigns/{campaign.pk}/", key).status_code == found
        assert get(client, f"/api/v1/permission-requests/{request.pk}/", key).status_code == found
    admin = token_for(charlie, role="admin")
    assert get(client, f"/api/v1/campaigns/{campaign.pk}/", admin).status_code == 200


def test_may_this_post_run_as_an_ad_lookup(client, alice):
    content = ContentFactory(url="https://www.instagram.com/p/Cabc123/")
    request = PermissionRequestFactory(content=content, requested=True)
    services.grant_rights(request, actor=alice, evidence=services.Evidence(text="#YesAcme"))
    key = token_for(alice)
    copied = "https://instagram.com/p/Cabc123/?igsh=xyz&utm_source=ig_web"
    assert [c["id"] for c in get(client, "/api/v1/content/", key, url=copied).json()["results"]] == [content.pk]
    [answer] = get(client, "/api/v1/permission-requests/", key, content_url=copied, status="granted").json()["results"]
    assert answer["may_be_used"] is True
    assert answer["channels"] == ["organic_social", "paid_ads"] and answer["rights_expire_at"]
    # A link that is no web address matches no post: an empty answer, not an error or every request.
    nothing = get(client, "/api/v1/permission-requests/", key, content_url="not a link")
    assert nothing.status_code == 200 and nothing.json()["results"] == []


def test_find_a_creator_by_handle_or_profile_url(client, alice):
    account = SocialAccountFactory(platform="tiktok", handle="foo.bar")
    key = token_for(alice)
    for handle in ["@Foo.Bar", "https://www.tiktok.com/@foo.bar?lang=en"]:
        results = get(client, "/api/v1/creators/", key, handle=handle, platform="tiktok").json()["results"]
        assert [r["id"] for r in results] == [account.creator_id]
        assert results[0]["accounts"][0]["handle"] == "foo.bar"
    # Without a platform, a handle is looked up on every platform as written (no @, any case); a handle
    # the platform could not have is no error, only no creator.
    SocialAccountFactory(platform="instagram", handle="foo.baz")
    anywhere = get(client, "/api/v1/creators/", key, handle="@FOO.BAR").json()["results"]
    assert [r["id"] for r in anywhere] == [account.creator_id]
    impossible = get(client, "/api/v1/creators/", key, handle="two words", platform="tiktok")
    assert impossible.status_code == 200 and impossible.json()["results"] == []


def test_creators_by_consent(client, alice):
    key = token_for(alice)
    allowed, opted_out, neither = CreatorFactory(), CreatorFactory(), CreatorFactory()
    Creator.objects.filter(pk=allowed.pk).update(contact_allowed_at=timezone.now())
    Creator.objects.filter(pk=opted_out.pk).update(opted_out_at=timezone.now())

    def ids(consent):
        return {r["id"] for r in get(client, "/api/v1/creators/", key, consent=consent).json()["results"]}

    assert ids("contact_allowed") == {allowed.pk}
    assert ids("opted_out") == {opted_out.pk}
    assert opted_out.pk not in ids("contactable") and {allowed.pk, neither.pk} <= ids("contactable")


def test_lists_use_a_constant_number_of_queries(client, alice):
    key = token_for(alice, role="admin")

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert get(client, url, key).status_code == 200
        return len(captured)

    SocialAccountFactory().creator.tags.create(name="first")
    CampaignFactory().team.add(alice)
    PermissionRequestFactory()
    queries("/api/v1/tags/")  # the token's first use records last_used_at once
    baseline = {
        url: queries(url) for url in ["/api/v1/creators/", "/api/v1/campaigns/", "/api/v1/permission-requests/"]
    }
    for _ in range(30):
        creator = CreatorFactory()
        SocialAccountFactory(creator=creator)
        creator.tags.create(name=f"t{creator.pk}")
        CampaignFactory().team.add(alice)
        PermissionRequestFactory()
    for url, count in baseline.items():
        assert queries(url) == count, url


def test_the_openapi_schema_and_local_docs(client, alice):
    client.force_login(alice)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"tokenAuth" in schema.content and b"/api/v1/permission-requests/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"drf_spectacular_sidecar" in docs.content and b"cdn.jsdelivr" not in docs.content
