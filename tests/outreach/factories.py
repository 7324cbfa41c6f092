"""Factories for outreach models."""

import factory

from outreach.models import MessageTemplate, SenderAccount, Sequence, SequenceStep


class MessageTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MessageTemplate

    name = factory.Sequence(lambda n: f"Template {n}")
    body = "Hi {{ creator.first_name }}! {{ campaign.brand }} would love to work with you."
    subject = "Working together"


class SenderAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SenderAccount
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Acme sender {n}")
    platform = "instagram"
    variant = SenderAccount.Variant.INSTAGRAM_LOGIN
    account_id = factory.Sequence(lambda n: f"1784{n:06d}")

    @factory.post_generation
    def token(sender, create, extracted, **kwargs):
        sender.set_access_token(extracted or "test-token")
        if create:
            sender.save(update_fields=["access_token_encrypted"])


class SequenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sequence

    name = factory.Sequence(lambda n: f"Sequence {n}")


class SequenceStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SequenceStep

    sequence = factory.SubFactory(SequenceFactory)
    position = 0
    template = factory.SubFactory(MessageTemplateFactory)
    delay_days = 0
