"""GET /api/v1/content/may-use/: the same answer as the pages, by the post's link in any form."""

import pytest

from crm import services
from tests.factories import ContentFactory, PermissionRequestFactory

pytestmark = pytest.mark.django_db


def test_it_answers_with_the_reason(as_alice, campaign):
    post = ContentFactory(url="https://www.instagram.com/p/Abc123/", campaign=campaign)
    request = PermissionRequestFactory(content=post, campaign=campaign, channels=["organic_social"],
                                       territory="GB, IE, US", requested=True)  # fmt: skip
    services.grant_rights(request, actor=None, evidence=services.Evidence(text="#YesAcme", rule="hashtag"))
    link = "https://instagram.com/p/Abc123/?utm_source=ig_web_copy_link"
    answer = as_alice.get("/api/v1/content/may-use/", url=link, channel="organic_social", territory="de").json()
    assert answer["may_use"] is False
    assert answer["reason"] == f"No: Germany is outside GB, IE, US (request #{request.pk})."
    assert answer["territory"] == "DE" and answer["permission_request"] == request.pk
    answer = as_alice.get("/api/v1/content/may-use/", url=link, channel="organic_social", territory="GB").json()
    assert answer["may_use"] is True
    listed = as_alice.get(f"/api/v1/permission-requests/{request.pk}/").json()
    assert listed["may_be_used"] is True  # granted and not expired; the scope is the endpoint's to check


def test_bad_questions_are_400_by_field(as_alice, as_charlie, campaign):
    post = ContentFactory(campaign=campaign)
    response = as_alice.get("/api/v1/content/may-use/", url=post.url, channel="organic_social", territory="Narnia")
    assert response.status_code == 400 and "territory" in response.json()
    response = as_alice.get("/api/v1/content/may-use/", url="https://instagram.com/p/nope/", channel="website",
                            territory="GB")  # fmt: skip
    assert response.status_code == 400 and "url" in response.json()
    response = as_charlie.get("/api/v1/content/may-use/", url=post.url, channel="website", territory="GB")
    assert response.status_code == 400  # another team's post is not there for charlie
