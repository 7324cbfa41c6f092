"""Posts and rights from the pages: add a post by its link, ask for the rights to several posts with
the policy's preview, the content list and "may we use this post?"."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm import services
from crm.models import Content, PermissionRequest
from outreach.models import OutreachMessage
from tests.factories import ContentFactory, CreatorFactory, PermissionRequestFactory, SocialAccountFactory
from tests.outreach.factories import MessageTemplateFactory, SenderAccountFactory

pytestmark = pytest.mark.django_db
ASK = "Hi {{ creator.first_name }}, may we repost? Reply {{ permission_request.approval_hashtag }} to agree."


def rights_form(posts, sender, template, **extra):
    return {
        "rights-content": [post.pk for post in posts],
        "rights-channels": ["organic_social", "paid_ads"],
        "rights-territory": "gb, Ireland",
        "rights-duration_days": "180",
        "rights-terms_url": "https://acme.example.com/terms",
        "rights-terms_text": "You grant Acme a licence.",
        "rights-approval_hashtag": "#YesAcme",
        "rights-template": template.pk,
        "rights-sender_account": sender.pk,
        **extra,
    }


def test_a_post_is_added_by_its_link_in_any_form(alice_client, campaign):
    creator = CreatorFactory()
    SocialAccountFactory(creator=creator, platform="instagram")
    url = f"/creators/{creator.pk}/posts/"
    response = alice_client.post(
        url, {"post-url": "https://www.instagram.com/p/Cx1/?igsh=abc", "post-campaign": campaign.pk}
    )
    assert response.status_code == 302
    post = Content.objects.get(creator=creator)
    assert post.url == "https://instagram.com/p/Cx1" and post.campaign == campaign
    again = alice_client.post(url, {"post-url": "instagram.com/p/Cx1"})
    assert again.status_code == 200
    assert "already registered" in again.context["post_form"].errors["url"][0]
    page = alice_client.get(f"/creators/{creator.pk}/").content.decode()
    assert "Rights not asked" in page


def test_rights_for_several_posts_preview_then_send(alice_client, campaign):
    creator = CreatorFactory()
    SocialAccountFactory(creator=creator, platform="instagram")
    posts = [ContentFactory(creator=creator, campaign=campaign) for _ in range(2)]
    sender, template = SenderAccountFactory(), MessageTemplateFactory(body=ASK)
    url = f"/creators/{creator.pk}/rights/"
    preview = alice_client.post(url, rights_form(posts, sender, template, confirm="preview"))
    assert preview.status_code == 200
    outcomes = preview.context["outcomes"]
    assert {o.content for o in outcomes} == set(posts)
    assert {o.mode for o in outcomes} == {"manual"}  # no open window: a person sends it
    assert all(o.reason for o in outcomes) and outcomes[0].reason in preview.content.decode()
    assert not PermissionRequest.objects.exists() and not OutreachMessage.objects.exists()  # a dry run
    sent = alice_client.post(url, rights_form(posts, sender, template, confirm="send"))
    assert sent.status_code == 302
    requests = PermissionRequest.objects.filter(content__in=posts)
    assert requests.count() == 2 and {r.territory for r in requests} == {"GB, IE"}
    assert OutreachMessage.objects.filter(permission_request__in=requests).count() == 2
    page = alice_client.get(f"/creators/{creator.pk}/").content.decode()
    assert "Organic social, paid ads; the United Kingdom, Ireland" not in page  # the short form in lists
    assert "Organic social, paid ads; United Kingdom, Ireland; for 180 days from the grant" in page


def test_rights_errors_are_by_field(alice_client, campaign):
    creator = CreatorFactory()
    post = ContentFactory(creator=creator, campaign=campaign)
    sender, template = SenderAccountFactory(), MessageTemplateFactory(body="No hashtag here")
    response = alice_client.post(
        f"/creators/{creator.pk}/rights/", rights_form([post], sender, template, **{"rights-territory": "Narnia"})
    )
    assert "Narnia" in response.context["rights_form"].errors["territory"][0]
    response = alice_client.post(f"/creators/{creator.pk}/rights/", rights_form([post], sender, template))
    assert "#YesAcme" in response.context["rights_form"].errors["template"][0]
    assert not PermissionRequest.objects.exists()


def granted(campaign, **fields):
    request = PermissionRequestFactory(content=ContentFactory(campaign=campaign), campaign=campaign, requested=True,
                                       **fields)  # fmt: skip
    services.grant_rights(request, actor=None, evidence=services.Evidence(text="#YesAcme", rule="hashtag"))
    return request


def test_the_content_list_filters_by_rights_and_shows_thumbnails(alice_client, campaign):
    yes = granted(campaign, duration_days=10)
    asked = PermissionRequestFactory(content=ContentFactory(campaign=campaign, media_url="https://cdn.example.com/t.jpg"),
                                     campaign=campaign, requested=True)  # fmt: skip
    untouched = ContentFactory(campaign=campaign)
    rows = lambda **q: [post.pk for post in alice_client.get("/content/", q).context["page"].rows]  # noqa: E731
    assert set(rows()) == {yes.content_id, asked.content_id, untouched.pk}
    assert rows(rights="granted") == [yes.content_id]
    assert rows(rights="none") == [untouched.pk]
    assert rows(expiry="30") == [yes.content_id]
    assert rows(creator=untouched.creator.name) == [untouched.pk]
    assert 'src="https://cdn.example.com/t.jpg"' in alice_client.get("/content/").content.decode()


def test_may_we_use_answers_with_the_reason(alice_client, campaign):
    request = granted(campaign, channels=["organic_social"], territory="GB, IE, US")
    page = alice_client.get("/content/may-use/", {"url": request.content.url + "?utm_source=x", "channel": "paid_ads",
                                                  "territory": "GB"})  # fmt: skip
    assert page.context["answer"].reason == f"No: paid ads are not in the grant (request #{request.pk})."
    page = alice_client.get("/content/may-use/", {"url": request.content.url, "channel": "organic_social",
                                                  "territory": "Germany"})  # fmt: skip
    assert "Germany is outside GB, IE, US" in page.content.decode()
    page = alice_client.get("/content/may-use/", {"url": "https://instagram.com/p/none/", "channel": "website",
                                                  "territory": "Narnia"})  # fmt: skip
    assert page.status_code == 200 and "territory" in page.context["form"].errors


def test_the_content_list_and_creator_page_cost_constant_queries(alice_client, campaign):
    creator = CreatorFactory()

    def counts():
        with CaptureQueriesContext(connection) as listed:
            alice_client.get("/content/")
        with CaptureQueriesContext(connection) as detail:
            alice_client.get(f"/creators/{creator.pk}/")
        return len(listed), len(detail)

    for _ in range(2):
        PermissionRequestFactory(content=ContentFactory(creator=creator, campaign=campaign), campaign=campaign)
    few = counts()
    for _ in range(10):
        PermissionRequestFactory(content=ContentFactory(creator=creator, campaign=campaign), campaign=campaign)
    assert counts() == few


def test_the_filtered_content_list_exports_as_csv(alice_client, campaign):
    yes = granted(campaign, channels=["paid_ads"], territory="DE, AT")
    ContentFactory(campaign=campaign)
    text = b"".join(alice_client.get("/content/export.csv", {"rights": "granted"}).streaming_content).decode()
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[0] == "id,url,platform,creator,campaign,posted_on,rights,scope,rights_end"
    assert len(lines) == 2 and lines[1].startswith(f"{yes.content_id},{yes.content.url},")
    assert "granted,Paid ads; Germany, Austria; until" in lines[1].replace('"', "")
