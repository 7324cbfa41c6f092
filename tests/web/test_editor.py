"""Templates and sequences: errors by field, the variables listed, a live preview, length limits."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from outreach.models import MessageTemplate, Sequence
from tests.factories import CampaignMemberFactory, CreatorFactory, SocialAccountFactory
from tests.outreach.factories import MessageTemplateFactory, SequenceFactory, SequenceStepFactory
from tests.web import world
from tests.web.timing import fastest

pytestmark = pytest.mark.django_db


def member(campaign, name="Maya Hart"):
    creator = CreatorFactory(name=name)
    SocialAccountFactory(creator=creator, platform="instagram", handle="maya.hart")
    CampaignMemberFactory(campaign=campaign, creator=creator)
    return creator


def test_it_saves_a_template_with_its_variables(alice_client, alice):
    response = alice_client.post(
        "/templates/new/",
        {
            "name": "First touch",
            "platforms": ["instagram", "x"],
            "body": "Hi {{ creator.first_name }}!",
            "whatsapp_template_language": "en",
        },
    )
    template = MessageTemplate.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/templates/{template.pk}/"
    assert template.platforms == ["instagram", "x"] and template.variables == ["creator.first_name"]
    assert template.created_by == alice


def test_it_names_the_field_of_each_template_error(alice_client):
    response = alice_client.post(
        "/templates/new/",
        {"name": "", "platforms": ["instagram", "myspace"], "body": "Hi {{ creator.shoe_size }}"},
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"name", "platforms", "body"}
    response = alice_client.post("/templates/new/", {"name": "Bad", "body": "Hi {{ creator.shoe_size }}"})
    assert "Unknown variable 'creator.shoe_size'" in response.context["form"].errors["body"][0]
    assert 'id="id_body_error"' in response.content.decode()
    response = alice_client.post("/templates/new/", {"name": "Long", "platforms": ["instagram"], "body": "é" * 600})
    assert "the limit is 1000 bytes" in response.context["form"].errors["body"][0]
    response = alice_client.post("/templates/new/", {"name": "Mail", "platforms": ["email"], "body": "Hi"})
    assert response.context["form"].errors["subject"] == ["An email template needs a subject."]
    assert not MessageTemplate.objects.exists()


def test_it_lists_the_variables_and_the_limits_for_the_counter(alice_client):
    html = alice_client.get("/templates/new/").content.decode()
    assert "{{ creator.first_name }}" in html and "The campaign&#x27;s terms link" in html
    assert "&quot;instagram&quot;: [&quot;bytes&quot;, 1000]" in html and "web/editor.js" in html


def test_it_previews_a_draft_for_a_chosen_creator(alice_client, campaign):
    maya = member(campaign)
    data = {
        "body": "Hi {{ creator.first_name }} (@{{ creator.handle }}), {{ campaign.brand }} here",
        "subject": "",
        "preview_creator": maya.pk,
        "preview_campaign": campaign.pk,
        "preview_platform": "instagram",
    }
    response = alice_client.post("/templates/preview/", data)
    assert response.context["text"] == "Hi Maya (@maya.hart), Acme Skin here"
    assert "36 of 1000 bytes on Instagram." in response.content.decode()


def test_it_shows_a_preview_problem_by_its_field(alice_client, campaign):
    maya = member(campaign)
    base = {"preview_creator": maya.pk, "preview_platform": "instagram", "subject": ""}
    response = alice_client.post("/templates/preview/", {**base, "body": "Hi {{ campaign.name }}"})
    assert response.context["problem"][0] == "body"
    assert "No value for campaign.name" in response.content.decode()
    response = alice_client.post("/templates/preview/", {**base, "body": "Hi {{ creator.oops }}"})
    assert response.context["problem"] == ("body", response.context["problem"][1])
    response = alice_client.post("/templates/preview/", {**base, "body": "Hi", "preview_platform": "email"})
    assert response.context["problem"] == ("subject", "An email needs a subject; the template has none.")
    response = alice_client.post("/templates/preview/", {"body": "Hi", "preview_creator": "nobody"})
    assert set(response.context["form"].errors) == {"preview_creator", "preview_platform"}
    assert response.status_code == 200


def test_it_saves_a_sequence_and_names_step_errors(alice_client, alice):
    first, second = MessageTemplateFactory(name="First"), MessageTemplateFactory(name="Nudge")
    data = {
        "name": "Two touches",
        "steps-TOTAL_FORMS": "3",
        "steps-INITIAL_FORMS": "0",
        "steps-0-template": first.pk,
        "steps-0-delay_days": "0",
        "steps-1-template": second.pk,
        "steps-1-delay_days": "4",
        "steps-2-template": "",
        "steps-2-delay_days": "",
    }
    assert alice_client.post("/sequences/new/", data).status_code == 302
    sequence = Sequence.objects.get()
    assert [(s.template, s.delay_days) for s in sequence.steps.order_by("position")] == [(first, 0), (second, 4)]
    bad = {**data, "name": "", "steps-0-delay_days": "3", "steps-1-delay_days": "-1"}
    response = alice_client.post(f"/sequences/{sequence.pk}/", bad)
    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert "delay_days" in response.context["steps"].forms[1].errors
    response = alice_client.post(f"/sequences/{sequence.pk}/", {**data, "steps-0-delay_days": "3"})
    assert response.context["steps"].forms[0].errors["delay_days"] == [
        "The first step goes out at launch: its delay must be 0."
    ]
    response = alice_client.post(f"/sequences/{sequence.pk}/", {**data, "steps-0-template": "", "steps-1-template": ""})
    assert "a sequence needs at least one step" in response.content.decode().lower()


def test_it_shows_viewers_no_write_controls_and_refuses_their_writes(viewer_client):
    template = MessageTemplateFactory()
    html = viewer_client.get(f"/templates/{template.pk}/").content.decode()
    assert "Save the template" not in html and "hx-post" not in html
    assert '<fieldset class="bare" disabled' in html
    assert viewer_client.post(f"/templates/{template.pk}/", {"name": "x", "body": "y"}).status_code == 403
    assert viewer_client.post("/templates/preview/", {"body": "x"}).status_code == 403
    assert viewer_client.post("/sequences/new/", {"name": "x"}).status_code == 403


def test_it_answers_404_for_unknown_ids(alice_client):
    assert alice_client.get("/templates/999999/").status_code == 404
    assert alice_client.get("/sequences/999999/").status_code == 404


def test_it_lists_templates_and_sequences_in_a_constant_number_of_queries(alice_client):
    SequenceStepFactory()
    with CaptureQueriesContext(connection) as few:
        alice_client.get("/templates/")
    for _ in range(30):
        sequence = SequenceFactory()
        SequenceStepFactory(sequence=sequence, position=0)
        SequenceStepFactory(sequence=sequence, position=1, delay_days=3)
    with CaptureQueriesContext(connection) as many:
        response = alice_client.get("/templates/")
    assert len(response.context["sequences"]) == 31 and len(many) == len(few)


def test_it_shows_the_editor_in_a_constant_number_of_queries(alice_client, alice):
    template = MessageTemplateFactory()
    world.build(alice, campaigns=1, members=1)
    with CaptureQueriesContext(connection) as few:
        alice_client.get(f"/templates/{template.pk}/")
    world.build(alice, campaigns=5, members=10)
    with CaptureQueriesContext(connection) as many:
        response = alice_client.get(f"/templates/{template.pk}/")
    assert len(response.context["creators"]) == 51 and len(many) == len(few)


def test_it_renders_in_under_300_ms(alice_client, alice, campaign):
    world.build(alice, **world.DEMO_SIZED)
    template = MessageTemplateFactory()
    maya = member(campaign)
    for url in ["/templates/", f"/templates/{template.pk}/"]:
        assert fastest(lambda: alice_client.get(url)) < 0.3, url  # noqa: B023
    data = {
        "body": template.body,
        "preview_creator": maya.pk,
        "preview_campaign": campaign.pk,
        "preview_platform": "instagram",
    }
    assert alice_client.post("/templates/preview/", data).context["text"]
    assert fastest(lambda: alice_client.post("/templates/preview/", data)) < 0.3
