import pytest
from django.core.exceptions import ValidationError

from outreach import templating
from outreach.models import MessageTemplate
from tests.factories import CampaignFactory, CreatorFactory

pytestmark = pytest.mark.django_db


def test_it_lists_the_variables_a_template_uses():
    body = 'Hi {{ creator.first_name }}, {{campaign.brand}} loves your post. {{ creator.first_name|default:"x" }}'
    assert templating.variables_in(body) == ["creator.first_name", "campaign.brand"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Hi {{ creator.password }}", "Unknown variable 'creator.password'"),
        ("Hi {{ creator.first_name.upper }}", "Cannot read"),
        ("{% load secrets %}", "Only {{ variables }} are allowed"),
        ("Hi {{ creator.first_name ", "is not closed"),
        ("Hi {{ creator.__class__ }}", "Unknown variable"),
    ],
)
def test_it_refuses_what_the_engine_does_not_allow(body, message):
    with pytest.raises(templating.TemplateError, match=message):
        templating.variables_in(body)


def test_saving_a_template_with_an_unknown_variable_names_it_on_the_field():
    template = MessageTemplate(name="t", body="Hello {{ creator.nickname }}")
    with pytest.raises(ValidationError) as error:
        template.full_clean()
    assert "creator.nickname" in error.value.message_dict["body"][0]


def test_rendering_names_the_variable_with_no_value_and_uses_defaults():
    creator = CreatorFactory(name="Maya Hart")
    context = templating.build_context(creator)
    assert templating.render("Hi {{ creator.first_name }}!", context) == "Hi Maya!"
    with pytest.raises(templating.RenderError) as error:
        templating.render("From {{ campaign.brand }}", context)
    assert error.value.variable == "campaign.brand"
    assert "No value for campaign.brand" in str(error.value)
    assert templating.render('From {{ campaign.brand|default:"us" }}', context) == "From us"
    campaign = CampaignFactory(brand="Acme")
    assert templating.render("From {{ campaign.brand }}", templating.build_context(creator, campaign=campaign)) == (
        "From Acme"
    )


def test_instagram_limit_is_1000_bytes_checked_at_save():
    template = MessageTemplate(name="long", platforms=["instagram"], body="é" * 490 + " {{ creator.name }}")
    with pytest.raises(ValidationError) as error:
        template.full_clean()
    assert "bytes on Instagram; the limit is 1000 bytes" in error.value.message_dict["body"][0]
    template.platforms = ["x"]
    template.full_clean()
    assert template.variables == ["creator.name"]


def test_an_email_template_needs_a_subject():
    template = MessageTemplate(name="mail", platforms=["email"], body="Hi {{ creator.first_name }}")
    with pytest.raises(ValidationError) as error:
        template.full_clean()
    assert "needs a subject" in error.value.message_dict["subject"][0]
