"""Merging a prospect into the creator it turns out to be: everything moves but the ledger, which
stays on the record it was written to and is found through `merged_into` (issue 12)."""

import pytest

from crm import services
from crm.models import ConsentEvent, Creator, SocialAccount
from crm.services import merge
from outreach.models import Conversation, ConversationMessage
from tests.api.conftest import api_for
from tests.factories import ConsentEventFactory, CreatorFactory, SocialAccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def prospect_who_opted_out():
    prospect = CreatorFactory(name="New instagram contact 000001")
    SocialAccountFactory(creator=prospect, platform="instagram", handle="id.982340000000001", platform_user_id="98")
    conversation = Conversation.objects.create(creator=prospect, platform="instagram")
    ConversationMessage.objects.create(conversation=conversation, platform="instagram", direction="in", text="STOP",
                                       at="2026-01-01T10:00:00Z")  # fmt: skip
    ConsentEventFactory(kind=ConsentEvent.Kind.OPTED_OUT, creator=prospect)
    prospect.refresh_from_db()
    return prospect


def test_merge_moves_everything_but_the_ledger_and_proof_follows_the_pointer(alice):
    prospect = prospect_who_opted_out()
    known = CreatorFactory(name="Maya Hart")
    event = ConsentEvent.objects.get(creator=prospect)

    into = services.merge_creators(prospect, known, actor=alice)

    assert into == known
    prospect.refresh_from_db()
    assert prospect.merged_into_id == known.pk
    assert ConsentEvent.objects.get(pk=event.pk).creator_id == prospect.pk  # never rewritten
    assert SocialAccount.objects.get(platform_user_id="98").creator_id == known.pk
    assert Conversation.objects.get().creator_id == known.pk
    known.refresh_from_db()
    assert known.opted_out_at is not None  # the merged record's opt-out counts for the creator
    assert services.derive_contactability(known)[0] == event.occurred_at
    assert services.verify_ledger(known) == []
    assert merge.current(prospect) == known and set(merge.family(known)) == {known.pk, prospect.pk}


def test_merge_refuses_itself_twice_and_viewers(alice):
    prospect, known = CreatorFactory(), CreatorFactory()
    with pytest.raises(services.DomainError) as error:
        services.merge_creators(prospect, prospect, actor=alice)
    assert "into" in error.value.message_dict
    services.merge_creators(prospect, known, actor=alice)
    prospect.refresh_from_db()
    with pytest.raises(services.DomainError, match="already merged"):
        services.merge_creators(prospect, CreatorFactory(), actor=alice)


def test_merge_over_the_api_and_from_the_creator_page(alice, client):
    prospect, known = CreatorFactory(), CreatorFactory()
    api = api_for(alice)
    response = api.post(f"/api/v1/creators/{prospect.pk}/merge/", {"into": known.pk})
    assert response.status_code == 200, response.content
    assert response.json()["id"] == known.pk
    assert api.get(f"/api/v1/creators/{prospect.pk}/").json()["merged_into"] == known.pk
    bad = api.post(f"/api/v1/creators/{known.pk}/merge/", {"into": 999999})
    assert bad.status_code == 400 and "into" in bad.json()

    viewer = UserFactory(username="vera")
    refused = api_for(viewer, role="viewer").post(f"/api/v1/creators/{known.pk}/merge/", {"into": prospect.pk})
    assert refused.status_code in {400, 403}

    other = CreatorFactory()
    client.force_login(alice)
    page = client.post(f"/creators/{other.pk}/merge/", {"into": str(known.pk)})
    assert page.status_code == 302 and page.url.endswith(f"/creators/{known.pk}/")
    assert Creator.objects.get(pk=other.pk).merged_into_id == known.pk
    shown = client.get(f"/creators/{other.pk}/")
    assert f"creator {known.pk}" in shown.content.decode()
