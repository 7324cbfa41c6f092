"""factory-boy factories for every model; consent events go through the services, as in real use."""

import datetime

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from crm import services
from crm.models import (
    Campaign,
    CampaignMember,
    ConsentEvent,
    Content,
    Creator,
    PermissionRequest,
    Platform,
    SocialAccount,
    Tag,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("password")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    name = factory.Sequence(lambda n: f"niche {n}")


class CreatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Creator

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"creator{n}@example.com")
    country = "GB"
    language = "en"


class SocialAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SocialAccount

    creator = factory.SubFactory(CreatorFactory)
    platform = Platform.INSTAGRAM
    handle = factory.Sequence(lambda n: f"creator_{n}")
    follower_count = 12_000


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    brand = "Acme Skin"
    status = Campaign.Status.ACTIVE
    approval_hashtag = "#YesAcme"
    terms_url = "https://acme.example.com/ugc-terms"
    terms_version = "2026-1"


class CampaignMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignMember

    campaign = factory.SubFactory(CampaignFactory)
    creator = factory.SubFactory(CreatorFactory)


class ContentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Content

    creator = factory.SubFactory(CreatorFactory)
    platform = Platform.INSTAGRAM
    url = factory.Sequence(lambda n: f"https://www.instagram.com/p/Post{n}/")
    caption = "Morning routine"
    posted_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=3))


TERMS = "You grant Acme a licence to repost the named post, with credit, in the stated channels."


class PermissionRequestFactory(factory.django.DjangoModelFactory):
    """A draft request; pass `requested=True` to have it sent."""

    class Meta:
        model = PermissionRequest
        skip_postgeneration_save = True

    content = factory.SubFactory(ContentFactory)
    creator = factory.SelfAttribute("content.creator")
    channels = factory.LazyFunction(lambda: ["organic_social", "paid_ads"])
    territory = "worldwide"
    duration_days = 90
    terms_url = "https://acme.example.com/ugc-terms"
    terms_text = TERMS
    terms_sha256 = factory.LazyAttribute(lambda request: PermissionRequest.hash_terms(request.terms_text))
    approval_hashtag = "#YesAcme"

    @factory.post_generation
    def requested(request, create, extracted, **kwargs):
        if create and extracted:
            services.mark_permission_requested(request, request_text="Reply #YesAcme to let us share your post")
            request.refresh_from_db()


class ConsentEventFactory(factory.django.DjangoModelFactory):
    """Appends through `record_consent_event`, so the hash chain is right."""

    class Meta:
        model = ConsentEvent

    kind = ConsentEvent.Kind.CONTACT_ALLOWED
    creator = factory.SubFactory(CreatorFactory)
    permission_request = None

    @classmethod
    def _create(cls, model_class, *, kind, creator, permission_request=None, actor=None, **evidence):
        evidence.setdefault("rule", "test")
        return services.record_consent_event(
            kind=kind,
            creator=creator,
            actor=actor,
            evidence=services.Evidence(**evidence),
            permission_request=permission_request,
        )
