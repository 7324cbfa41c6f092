import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from crm.models import Campaign, Content, Creator, SocialAccount, Tag
from tests.factories import (
    CampaignFactory,
    CampaignMemberFactory,
    ContentFactory,
    CreatorFactory,
    SocialAccountFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db


def test_handles_are_stored_normalised():
    account = SocialAccountFactory(platform="instagram", handle="https://www.instagram.com/Jane.Doe/")
    account.refresh_from_db()
    assert account.handle == "jane.doe"
    assert account.profile_url == "https://www.instagram.com/jane.doe/"


def test_the_same_handle_cannot_belong_to_two_creators_whatever_its_spelling():
    SocialAccountFactory(platform="tiktok", handle="@Foo.Bar")
    with pytest.raises(IntegrityError), transaction.atomic():
        SocialAccountFactory(platform="tiktok", handle="https://www.tiktok.com/@foo.bar")


def test_the_same_handle_may_exist_on_two_platforms():
    SocialAccountFactory(platform="tiktok", handle="foo")
    SocialAccountFactory(platform="instagram", handle="foo")
    assert SocialAccount.objects.filter(handle="foo").count() == 2


def test_platform_user_ids_are_unique_per_platform_but_may_be_unknown_for_many():
    SocialAccountFactory(platform="instagram", platform_user_id="1784140")
    SocialAccountFactory(platform="instagram", platform_user_id=None)
    SocialAccountFactory(platform="instagram", platform_user_id="")  # stored as unknown, not as ""
    SocialAccountFactory(platform="x", platform_user_id="1784140")
    with pytest.raises(IntegrityError), transaction.atomic():
        SocialAccountFactory(platform="instagram", platform_user_id="1784140")


def test_a_creator_may_have_several_accounts():
    creator = CreatorFactory()
    SocialAccountFactory(creator=creator, platform="instagram", handle="main")
    SocialAccountFactory(creator=creator, platform="instagram", handle="second")
    SocialAccountFactory(creator=creator, platform="tiktok", handle="main")
    assert creator.accounts.count() == 3


def test_a_bad_handle_is_a_validation_error_on_the_handle_field():
    account = SocialAccount(creator=CreatorFactory(), platform="x", handle="no spaces allowed")
    with pytest.raises(ValidationError) as error:
        account.full_clean()
    assert "handle" in error.value.message_dict


def test_tags_are_unique_whatever_their_case():
    TagFactory(name="Skincare")
    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(name="skincare")


def test_a_campaign_cannot_end_before_it_starts():
    import datetime

    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignFactory(starts_on=datetime.date(2026, 5, 2), ends_on=datetime.date(2026, 5, 1))
    campaign = Campaign(name="x", brand="y", starts_on=datetime.date(2026, 5, 2), ends_on=datetime.date(2026, 5, 1))
    with pytest.raises(ValidationError) as error:
        campaign.full_clean()
    assert "ends_on" in error.value.message_dict


@pytest.mark.parametrize(("given", "stored"), [("yesacme", "#yesacme"), (" #YesAcme ", "#YesAcme")])
def test_approval_hashtags_are_normalised(given, stored):
    campaign = Campaign(name="x", brand="y", approval_hashtag=given)
    campaign.full_clean()
    assert campaign.approval_hashtag == stored


def test_an_approval_hashtag_with_spaces_is_refused():
    campaign = Campaign(name="x", brand="y", approval_hashtag="#yes acme")
    with pytest.raises(ValidationError) as error:
        campaign.full_clean()
    assert "approval_hashtag" in error.value.message_dict


def test_a_creator_is_in_a_campaign_once():
    member = CampaignMemberFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignMemberFactory(campaign=member.campaign, creator=member.creator)


def test_content_urls_are_unique_once_normalised():
    ContentFactory(url="https://www.instagram.com/p/Cxyz/?igsh=1")
    with pytest.raises(IntegrityError), transaction.atomic():
        ContentFactory(url="https://instagram.com/p/Cxyz")
    assert Content.objects.get().url == "https://instagram.com/p/Cxyz"


def test_contactable_leaves_out_opted_out_do_not_contact_and_erased_creators():
    from django.utils import timezone

    reachable = CreatorFactory()
    CreatorFactory(status=Creator.Status.DO_NOT_CONTACT)
    Creator.objects.filter(pk=CreatorFactory().pk).update(opted_out_at=timezone.now())
    Creator.objects.filter(pk=CreatorFactory().pk).update(erased_at=timezone.now())
    assert list(Creator.objects.contactable()) == [reachable]


def test_creator_clean_tidies_name_email_and_country():
    creator = Creator(name="  Jane   Doe ", email=" Jane@Example.COM ", country="gb")
    creator.full_clean()
    assert (creator.name, creator.email, creator.country) == ("Jane Doe", "jane@example.com", "GB")
    assert creator.first_name == "Jane"
    with pytest.raises(ValidationError) as error:
        Creator(name="x", country="England").full_clean()
    assert "country" in error.value.message_dict
