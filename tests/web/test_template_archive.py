"""Archiving templates: an archived template leaves the pickers, new launches, sequences and rights
requests refuse it by field, the history keeps showing it; only a template nothing used is deleted."""

import pytest
from django.core.exceptions import ValidationError

from crm.errors import DomainError
from outreach import services
from outreach.models import MessageTemplate, OutreachMessage, Sequence, SequenceStep
from tests.factories import CampaignMemberFactory, CreatorFactory
from tests.outreach.factories import MessageTemplateFactory, SenderAccountFactory

pytestmark = pytest.mark.django_db


def _archived(name="Old intro"):
    template = MessageTemplateFactory(name=name)
    return services.archive_template(template, actor=None)


def test_archive_and_unarchive_are_idempotent(alice):
    template = MessageTemplateFactory(name="Spring intro")
    first = services.archive_template(template, actor=alice).archived_at
    assert first is not None
    assert services.archive_template(template, actor=alice).archived_at == first  # a second click changes nothing
    assert services.unarchive_template(template, actor=alice).archived_at is None
    assert services.usable_templates().filter(pk=template.pk).exists()


def test_a_launch_refuses_an_archived_template_by_field(campaign, alice):
    campaign.status = "active"
    campaign.save()
    CampaignMemberFactory(campaign=campaign)
    sender = SenderAccountFactory(owner=alice)
    template = _archived()
    with pytest.raises(ValidationError) as caught:
        services.launch_campaign(campaign, actor=alice, sender_account=sender, template=template)
    assert "archived" in DomainError(caught.value).message_dict["template"][0]
    assert not OutreachMessage.objects.exists()


def test_a_sequence_with_an_archived_step_is_refused_for_new_work(campaign, alice):
    old = _archived()
    live = MessageTemplateFactory(name="Live")
    with pytest.raises(ValidationError) as caught:
        services.save_sequence(None, actor=alice, name="New", steps=[{"template": old, "delay_days": 0}])
    assert "archived" in str(DomainError(caught.value).message_dict["steps"])
    # A sequence saved before the archive keeps its step, but a launch with it says which step is archived.
    sequence = Sequence.objects.create(name="Spring")
    SequenceStep.objects.create(sequence=sequence, position=0, template=live, delay_days=0)
    SequenceStep.objects.create(sequence=sequence, position=1, template=old, delay_days=3)
    kept = [{"template": live}, {"template": old, "delay_days": 3}]
    services.save_sequence(sequence, actor=alice, name="Spring", steps=kept)
    campaign.status = "active"
    campaign.save()
    with pytest.raises(ValidationError) as caught:
        services.launch_campaign(campaign, actor=alice, sender_account=SenderAccountFactory(owner=alice),
                                 sequence=sequence)  # fmt: skip
    assert "Step 2 uses the archived template “Old intro”" in DomainError(caught.value).message_dict["sequence"][0]


def test_deleting_a_used_template_is_refused_with_the_offer_to_archive(campaign, alice):
    used = MessageTemplateFactory(name="Sent once")
    OutreachMessage.objects.create(
        campaign=campaign, creator=CreatorFactory(), sender_account=SenderAccountFactory(), platform="instagram",
        template=used, rendered_text="Hi", status="sent",
    )  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        services.delete_template(used, actor=alice)
    assert "1 message written with it: archive it instead" in DomainError(caught.value).message_dict["template"][0]
    unused = MessageTemplateFactory(name="Never sent")
    services.delete_template(unused, actor=alice)
    assert not MessageTemplate.objects.filter(pk=unused.pk).exists()


def test_the_list_offers_delete_only_for_unused_and_hides_archived(alice_client, campaign):
    used, unused, gone = MessageTemplateFactory(name="Used"), MessageTemplateFactory(name="Unused"), _archived("Gone")
    OutreachMessage.objects.create(
        campaign=campaign, creator=CreatorFactory(), sender_account=SenderAccountFactory(), platform="instagram",
        template=used, rendered_text="Hi", status="sent",
    )  # fmt: skip
    page = alice_client.get("/templates/").content.decode()
    assert f"/templates/{unused.pk}/delete/" in page and f"/templates/{used.pk}/delete/" not in page
    assert f"/templates/{used.pk}/archive/" in page and "Gone" not in page
    archived = alice_client.get("/templates/?archived=1").content.decode()
    assert f"/templates/{gone.pk}/unarchive/" in archived and "Unused" not in archived


def test_the_list_runs_a_constant_number_of_queries(alice_client, campaign, django_assert_max_num_queries):
    for n in range(30):
        template = MessageTemplateFactory(name=f"T{n}")
        SequenceStep.objects.create(sequence=Sequence.objects.create(name=f"S{n}"), position=0, template=template)
    with django_assert_max_num_queries(14):
        assert alice_client.get("/templates/").status_code == 200


def test_pickers_hide_archived_templates_but_a_sequence_keeps_its_own(alice_client, campaign):
    MessageTemplateFactory(name="Live one")
    old = MessageTemplateFactory(name="Retired one")
    sequence = Sequence.objects.create(name="Spring")
    SequenceStep.objects.create(sequence=sequence, position=0, template=old, delay_days=0)
    services.archive_template(old, actor=None)
    new_sequence = alice_client.get("/sequences/new/").content.decode()
    assert "Live one" in new_sequence and "Retired one" not in new_sequence
    assert "Retired one" in alice_client.get(f"/sequences/{sequence.pk}/").content.decode()
    launch = alice_client.get(f"/campaigns/{campaign.pk}/launch/").content.decode()
    assert "Live one" in launch and "Retired one" not in launch


def test_archive_and_unarchive_from_the_pages_and_the_api(alice_client, alice):
    from rest_framework.test import APIClient

    template = MessageTemplateFactory(name="Autumn")
    assert alice_client.post(f"/templates/{template.pk}/archive/").status_code == 302
    template.refresh_from_db()
    assert template.archived_at is not None
    assert "is archived" in alice_client.get(f"/templates/{template.pk}/").content.decode()
    api = APIClient()
    api.force_authenticate(alice)
    assert api.get("/api/v1/templates/", {"archived": "true"}).json()["results"][0]["id"] == template.pk
    assert api.get("/api/v1/templates/", {"archived": "false"}).json()["results"] == []
    assert api.post(f"/api/v1/templates/{template.pk}/unarchive/").json()["archived_at"] is None
    used = MessageTemplateFactory(name="Used")
    SequenceStep.objects.create(sequence=Sequence.objects.create(name="S"), position=0, template=used)
    refused = api.delete(f"/api/v1/templates/{used.pk}/")
    assert refused.status_code == 400 and "archive it instead" in str(refused.json())
