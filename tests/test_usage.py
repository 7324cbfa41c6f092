"""May we use this post for X in Y until Z? The rule (crm/services/usage.py), territories as ISO codes."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm import services, territories
from crm.services import usage
from tests.factories import ContentFactory, PermissionRequestFactory

pytestmark = pytest.mark.django_db
YES = services.Evidence(channel="instagram", text="#YesAcme", rule="a person read it")


def granted(*, channels=("organic_social",), territory="GB, IE, US", days=180, content=None):
    request = PermissionRequestFactory(
        content=content or ContentFactory(), channels=list(channels), territory=territory, duration_days=days,
        requested=True,
    )  # fmt: skip
    services.grant_rights(request, actor=None, evidence=YES)
    request.refresh_from_db()
    return request


def test_territories_are_iso_codes_and_regions():
    assert territories.normalise("gb; Ireland and usa") == "GB, IE, US"
    assert territories.normalise("UK, worldwide") == "worldwide"
    assert territories.covers("EU", "DE") and not territories.covers("EU", "GB")
    assert territories.covers("worldwide", "JP")
    assert not territories.covers("somewhere nice", "GB")  # an old free-text value covers nothing...
    assert territories.describe("somewhere nice") == "somewhere nice"  # ...but stays readable
    assert territories.describe("DE, AT, CH") == "Germany, Austria, Switzerland"
    with pytest.raises(territories.UnknownTerritory):
        territories.parse("GB, Narnia")


def test_a_request_names_a_real_territory():
    with pytest.raises(ValidationError) as caught:
        services.Scope(channels=["paid_ads"], territory="GB, Narnia").validate()
    assert "Narnia" in caught.value.message_dict["territory"][0]


def test_yes_names_the_scope_in_words():
    request = granted(channels=["paid_ads", "organic_social"], territory="DE, AT, CH")
    answer = usage.may_use(request.content, "paid_ads", "Austria")
    assert answer.yes and answer.request == request
    until = usage.human_date(request.rights_expire_at)
    scope = f"Paid ads, organic social; Germany, Austria, Switzerland; until {until}"
    assert answer.reason == f"Yes: {scope} (request #{request.pk})."


def test_no_says_which_part_is_missing():
    request = granted()
    content = request.content
    no_ads = usage.may_use(content, "paid_ads", "GB")
    assert no_ads.reason == f"No: paid ads are not in the grant (request #{request.pk})."
    assert usage.may_use(content, "organic_social", "DE").reason.startswith("No: Germany is outside GB, IE, US")
    later = timezone.localdate() + datetime.timedelta(days=400)
    answer = usage.may_use(content, "organic_social", "IE", later)
    assert not answer.yes and f"the grant ends on {usage.human_date(request.rights_expire_at)}" in answer.reason
    assert usage.may_use(content, "organic_social", "US").yes


def test_no_rights_asked_declined_or_revoked():
    assert usage.may_use(ContentFactory(), "website", "GB").reason == "No rights were asked for this post."
    request = granted(territory="worldwide")
    services.revoke_rights(request, actor=None, evidence=YES)
    assert usage.may_use(request.content, "organic_social", "GB").reason.startswith("No: the creator withdrew")


def test_a_bad_question_names_its_field():
    with pytest.raises(ValidationError) as caught:
        usage.may_use(ContentFactory(), "billboards", "Narnia", "tomorrow")
    assert set(caught.value.message_dict) == {"channel", "territory", "date"}


def test_a_new_request_stores_the_territory_normalised():
    content = ContentFactory()
    request = services.request_permission(
        content, actor=None, scope=services.Scope(channels=["website"], territory="germany; at"),
        terms_url="https://acme.example.com/terms", terms_text="Terms", approval_hashtag="#YesAcme",
    )  # fmt: skip
    assert request.territory == "DE, AT"
