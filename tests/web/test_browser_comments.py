"""The comment pages in a real Chromium, against the loopback Graph API and TikTok over HTTP: a post's
comments inbox (reply publicly, reply privately once: a second try from a page loaded earlier is
refused, hide, ask for the rights under the author's comment), the UGC found, a keyword rule, the
hashtag budget, and a TikTok video's comments (no private replies there: the page says so).

WEB_SCREENSHOTS=1 writes comments.png, comments-post.png and comments-tiktok.png under docs/screenshots/."""

import pytest
from django_q.conf import Conf

from outreach.models import Comment, CommentRightsRequest, KeywordRule, PrivateReply
from outreach.services import tiktok_comments
from tests.factories import CreatorFactory, SocialAccountFactory
from tests.fakes.meta import IG_ACCOUNT, IG_TOKEN
from tests.fakes.meta_comments import fake_meta_comments  # noqa: F401
from tests.fakes.tiktok import BRAND_BUSINESS_ID, BRAND_TIKTOK_TOKEN, fake_tiktok_comments  # noqa: F401
from tests.outreach.factories import MessageTemplateFactory, SenderAccountFactory
from tests.web.conftest import duplicate_ids, screenshot, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
SECRET = "meta-app-secret"
POST = "18400000000000001"


@pytest.fixture(scope="module")
def chromium(module_chromium):
    return module_chromium


@pytest.fixture
def world(live_server, fake_meta_comments, fake_tiktok_comments, settings, monkeypatch, alice):  # noqa: F811
    monkeypatch.setattr(Conf, "SYNC", True)
    settings.META_APP_SECRET = SECRET
    settings.COMMENT_REQUEST_INTERVAL_SECONDS = 0
    meta = fake_meta_comments
    meta.webhook_url, meta.app_secret = f"{live_server.url}/webhooks/meta/", SECRET
    instagram = SenderAccountFactory(
        name="Acme Instagram", platform="instagram", variant="instagram_login", account_id=IG_ACCOUNT,
        token=IG_TOKEN, api_base_url=meta.url, owner=alice,
    )  # fmt: skip
    tiktok = SenderAccountFactory(
        name="Acme TikTok", platform="tiktok", variant="", account_id=BRAND_BUSINESS_ID, token=BRAND_TIKTOK_TOKEN,
        api_base_url=fake_tiktok_comments.url, owner=alice,
    )  # fmt: skip
    MessageTemplateFactory(name="The guide link")
    maya = CreatorFactory(name="Maya Hart", owner=alice)
    SocialAccountFactory(creator=maya, platform="instagram", handle="mayahart")
    meta.add_media(POST, owner=IG_ACCOUNT, caption="Our new serum, in three shades")
    said = meta.user_comments(POST, from_id="9001", username="mayahart", text="Where can I buy it?")
    meta.emit(meta.comment_webhook(IG_ACCOUNT, said))
    other = meta.user_comments(POST, from_id="9002", username="sam.k", text="Spam spam buy followers")
    meta.emit(meta.comment_webhook(IG_ACCOUNT, other))
    meta.add_media("18400000000000002", owner="mayahart", caption="Glowing with @acme serum", media_type="VIDEO")
    meta.emit(meta.mention_webhook(IG_ACCOUNT, "18400000000000002"))  # her post: UGC found
    return {"meta": meta, "tiktok": fake_tiktok_comments, "instagram": instagram, "tiktok_sender": tiktok,
            "said": said, "other": other}  # fmt: skip


def test_the_comments_inbox_of_a_post_in_chromium(browser_page, world, live_server):
    page, meta = browser_page, world["meta"]
    sign_in(page, "alice")
    page.goto("/comments/")
    assert page.get_by_role("heading", name="UGC found").is_visible()
    assert page.get_by_text("Glowing with @acme serum").is_visible()
    page.get_by_role("link", name=POST).click()  # a webhook names our post by its id only
    page.wait_for_url("**/comments/posts/**")
    post_url = page.url

    earlier = page.context.new_page()  # a second tab, loaded before the first private reply
    earlier.goto(post_url)

    maya = page.locator("article", has_text="Where can I buy it?")
    maya.get_by_label("Private reply").fill("Here is the link: acme.example/serum")
    maya.get_by_role("button", name="Reply privately").click()
    page.get_by_text("queued: it goes out once").wait_for()
    [dm] = meta.private_replies(IG_ACCOUNT)
    assert (dm["comment_id"], dm["text"]) == (world["said"].comment_id, "Here is the link: acme.example/serum")
    maya = page.locator("article", has_text="Where can I buy it?")
    assert maya.get_by_text("This comment already had its one private reply").is_visible()

    stale = earlier.locator("article", has_text="Where can I buy it?")
    stale.get_by_label("Private reply").fill("A second one")
    stale.get_by_role("button", name="Reply privately").click()
    earlier.get_by_text("already had its one private reply").first.wait_for()
    earlier.close()
    assert len(meta.private_replies()) == 1 and PrivateReply.objects.count() == 1  # the second never left

    maya = page.locator("article", has_text="Where can I buy it?")
    maya.get_by_label("Public reply").fill("Thank you Maya!")
    maya.get_by_role("button", name="Reply publicly").click()
    page.get_by_text("Replied publicly.").wait_for()
    assert [c.text for c in meta.comments_by_business(IG_ACCOUNT)] == ["Thank you Maya!"]

    spam = page.locator("article", has_text="Spam spam buy followers")
    spam.get_by_role("button", name="Hide").click()
    page.get_by_text("Comment hidden.").wait_for()
    assert meta.comments[world["other"].comment_id].hidden is True

    screenshot(page, "comments-post")
    maya = page.locator("article", has_text="Where can I buy it?")
    maya.get_by_text("Ask for the rights").first.click()
    form = maya.locator("form", has=page.get_by_role("button", name="Ask"))
    form.get_by_label("Terms link").fill("https://acme.example/ugc-terms")
    form.get_by_label("Terms text").fill("Acme may repost your post with credit.")
    form.get_by_label("Approval hashtag").fill("YesAcme")
    form.get_by_label("Brand").fill("Acme")
    form.get_by_role("button", name="Ask").click()
    page.get_by_text("Rights request created").wait_for()
    asked = CommentRightsRequest.objects.get()
    assert (asked.method, asked.status, asked.via_comment.comment_id) == ("comment_reply", "sent",
                                                                           world["said"].comment_id)  # fmt: skip
    assert "#YesAcme" in meta.comments_by_business(IG_ACCOUNT)[-1].text
    assert page.get_by_role("cell", name="@mayahart").is_visible()


def test_keyword_rules_and_the_hashtag_budget_in_chromium(browser_page, world):
    page = browser_page
    sign_in(page, "alice")
    page.goto("/comments/")
    assert duplicate_ids(page) == []  # the UGC's rights form and the hashtag form once shared "tag-1"
    rules = page.locator("section", has=page.get_by_role("heading", name="Keyword rules"))
    rules.get_by_label("Keyword").fill("GUIDE")
    rules.get_by_label("Account").select_option(label="Acme Instagram")
    rules.get_by_role("button", name="Add the rule").click()
    # The flash of the new page (the form's help text says much the same and is there before it).
    page.get_by_text("Comments with 'GUIDE' get one automatic private reply per person.").wait_for()
    assert KeywordRule.objects.get().keyword == "GUIDE"

    tags = page.locator("section", has=page.get_by_role("heading", name="Hashtags"))
    assert tags.get_by_text("0 of 30 hashtags used in the last 7 days, 30 left.").is_visible()
    tags.get_by_label("Follow a hashtag").fill("#summerglow")
    tags.get_by_role("button", name="Follow").click()
    page.get_by_text("Following #summerglow").wait_for()
    tags = page.locator("section", has=page.get_by_role("heading", name="Hashtags"))
    assert tags.get_by_text("1 of 30 hashtags used in the last 7 days, 29 left.").is_visible()
    assert tags.get_by_text("#summerglow (counts until").is_visible()
    screenshot(page, "comments")


def test_a_tiktok_videos_comments_in_chromium(browser_page, world):
    page, fake = browser_page, world["tiktok"]
    fake.add_video(BRAND_BUSINESS_ID, "7300000000000000077", caption="Serum, the TikTok cut")
    said = fake.user_comments(
        "7300000000000000077", user_id="u-lena", username="lena.k", text="Does it work on oily skin?"
    )
    assert tiktok_comments.poll_comments(world["tiktok_sender"]) == 1
    sign_in(page, "alice")
    page.goto("/comments/")
    page.get_by_role("link", name="Serum, the TikTok cut").click()
    assert page.locator("#tiktok-note").is_visible()
    lena = page.locator("article", has_text="Does it work on oily skin?")
    assert lena.get_by_text("No private reply: TikTok has no private replies").is_visible()
    assert lena.get_by_role("button", name="Reply privately").count() == 0
    screenshot(page, "comments-tiktok")
    lena.get_by_label("Public reply").fill("Yes, it does!")
    lena.get_by_role("button", name="Reply publicly").click()
    page.get_by_text("Replied publicly.").wait_for()
    [ours] = fake.replies_by_business(BRAND_BUSINESS_ID)
    assert (ours.parent_id, ours.text) == (said.comment_id, "Yes, it does!")
    assert page.get_by_text("Yes, it does!").is_visible()
    assert Comment.objects.filter(platform="tiktok", ours=True).count() == 1
