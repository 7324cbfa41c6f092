"""The creators list writes its rows by hand for speed (bench/api_list.py): the same output as DRF's
generic serializer path, in the list, one creator and the answer to a create."""

import datetime
import json

import pytest
from django.utils import timezone
from rest_framework import serializers as drf
from rest_framework.renderers import JSONRenderer

from crm import services
from crm.api.serializers import CreatorSerializer
from crm.models import Creator
from tests.factories import CreatorFactory, SocialAccountFactory, TagFactory

pytestmark = pytest.mark.django_db


def generic(creator) -> dict:
    """What DRF's ModelSerializer makes of the declared fields, as JSON."""
    data = drf.ModelSerializer.to_representation(CreatorSerializer(), creator)
    return json.loads(JSONRenderer().render(data))


def test_it_writes_creators_as_the_generic_serializer_would(client, alice):
    key = services.create_api_token(alice, name="t", role="admin")[1]
    creator = CreatorFactory(owner=alice, name="Maya Hart", email="maya@example.com", language="pt-BR")
    creator.tags.add(TagFactory(name="skincare"), TagFactory(name="Beauty"))
    SocialAccountFactory(creator=creator, platform="tiktok", handle="maya.hart", follower_count=None)
    SocialAccountFactory(creator=creator, platform="instagram", handle="mayahart", platform_user_id="1784")
    Creator.objects.filter(pk=creator.pk).update(opted_out_at=timezone.now() - datetime.timedelta(days=1))
    CreatorFactory(name="No accounts")  # no tags, no accounts, no owner
    headers = {"HTTP_AUTHORIZATION": f"Token {key}"}

    listed = client.get("/api/v1/creators/", **headers).json()["results"]
    expected = [generic(c) for c in Creator.objects.prefetch_related("accounts", "tags").order_by("-id")]
    assert listed == expected
    assert [list(row) for row in listed] == [list(row) for row in expected]  # the same order of keys
    assert listed[1]["tags"] == ["Beauty", "skincare"] and listed[1]["contactable"] is False
    assert [a["platform"] for a in listed[1]["accounts"]] == ["instagram", "tiktok"]
    assert client.get(f"/api/v1/creators/{creator.pk}/", **headers).json() == expected[1]

    body = {"name": "Lee", "tags": ["travel"], "accounts": [{"platform": "x", "handle": "@lee"}]}
    created = client.post("/api/v1/creators/", body, content_type="application/json", **headers).json()
    assert created == generic(Creator.objects.get(pk=created["id"]))
