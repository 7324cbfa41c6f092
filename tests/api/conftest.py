"""API personas: alice owns the campaign, bob is on its team, charlie is another manager, vera only
reads, root is an admin; each with a token, and a client that sends it."""

import pytest
from rest_framework.test import APIClient

from crm import services
from tests.factories import UserFactory


class Api:
    """A JSON client for one persona (or nobody, for anonymous calls)."""

    def __init__(self, key: str | None = None):
        self.client = APIClient()
        if key:
            self.client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    def get(self, path, **params):
        return self.client.get(path, params)

    def post(self, path, data=None, **headers):
        return self.client.post(path, data or {}, format="json", headers=headers or None)

    def patch(self, path, data):
        return self.client.patch(path, data, format="json")

    def delete(self, path):
        return self.client.delete(path)


def api_for(user, role="manager") -> Api:
    return Api(services.create_api_token(user, name="tests", role=role)[1])


@pytest.fixture
def as_alice(alice):
    return api_for(alice)


@pytest.fixture
def as_bob(bob):
    return api_for(bob)


@pytest.fixture
def as_charlie(charlie):
    return api_for(charlie)


@pytest.fixture
def as_viewer(db):
    return api_for(UserFactory(username="vera"), role="viewer")


@pytest.fixture
def as_admin(db):
    return api_for(UserFactory(username="ada"), role="admin")


@pytest.fixture
def as_nobody():
    return Api()
