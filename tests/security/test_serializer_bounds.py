"""Every text and list a client can send through the API has a bound: a new serializer field without one
fails here, before it can take a gigabyte."""

import inspect

import pytest
from rest_framework import serializers

from crm.api import serializers as crm_serializers
from integrations.api import serializers as integration_serializers
from outreach.api import serializers as outreach_serializers

# Serializers that only describe answers (never parse a request body).
RESPONSES = {
    "BulkMarkSentResultSerializer",
    "LaunchChannelCountSerializer",
    "LaunchChoiceSerializer",
    "LaunchPreviewSerializer",
    "LaunchReasonSerializer",
    "LaunchResultSerializer",
    "PreviewSerializer",
}


def unbounded(serializer, path):
    for name, field in serializer.fields.items():
        where = f"{path}.{name}"
        if field.read_only:
            continue
        if isinstance(field, serializers.ListSerializer):
            if field.max_length is None:
                yield where
            yield from unbounded(field.child, where + "[]")
        elif isinstance(field, serializers.BaseSerializer):
            yield from unbounded(field, where)
        elif isinstance(field, serializers.ManyRelatedField):
            if getattr(field, "max_length", None) is None:
                yield where
        elif isinstance(field, serializers.ListField):
            if field.max_length is None:
                yield where
            child = field.child
            if isinstance(child, serializers.CharField) and child.max_length is None:
                yield where + "[]"
        elif isinstance(field, serializers.DictField | serializers.JSONField) or (
            isinstance(field, serializers.CharField) and field.max_length is None
        ):
            yield where


@pytest.mark.django_db
def test_every_writable_text_and_list_has_a_maximum():
    found = []
    for module in (crm_serializers, outreach_serializers, integration_serializers):
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, serializers.BaseSerializer)
                and cls.__module__ == module.__name__
                and name not in RESPONSES
            ):
                found.extend(unbounded(cls(), f"{module.__name__}.{name}"))
    assert not found, "fields without a maximum:\n" + "\n".join(found)
