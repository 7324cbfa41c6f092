"""The suite's own cheaper teardown of transactional tests (tests/database.py) leaves the database as
Django's flush and post_migrate would: the tables emptied but for the content types and permissions,
which are all there, with the ids the migrate gave them."""

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.contenttypes.models import ContentType
from django.test import TransactionTestCase

from crm.models import Tag
from tests.factories import UserFactory


class Flushed(TransactionTestCase):
    __test__ = False  # made only for its teardown, never collected
    databases = {"default"}

    def runTest(self):  # a TestCase needs one to be made
        raise AssertionError


@pytest.mark.django_db(transaction=True)
def test_the_flush_empties_the_tables_and_keeps_content_types_and_permissions():
    content_types = sorted(ContentType.objects.values_list("pk", "app_label", "model"))
    permissions = sorted(Permission.objects.values_list("pk", "codename", "content_type_id"))
    assert Permission.objects.filter(codename="change_creator").exists()
    Tag.objects.create(name="to-be-flushed")
    UserFactory()

    Flushed()._fixture_teardown()

    assert not Tag.objects.exists() and not User.objects.exists()
    assert sorted(ContentType.objects.values_list("pk", "app_label", "model")) == content_types
    assert sorted(Permission.objects.values_list("pk", "codename", "content_type_id")) == permissions
    cached = ContentType.objects.get_for_model(Tag)  # from the process's cache, made before the flush
    assert ContentType.objects.get(pk=cached.pk).model == "tag"  # still the row's id
