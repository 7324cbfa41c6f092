"""An id filter beyond 64 bits matches nothing instead of overflowing SQLite (found by Schemathesis
once the comments operations joined the schema)."""

import pytest

from crm import services

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/content/", "/api/v1/permission-requests/"])
def test_an_id_beyond_64_bits_matches_nothing(client, alice, path):
    key = services.create_api_token(alice, name="t", role="admin")[1]
    answer = client.get(f"{path}?creator=-3644048825159047446528", HTTP_AUTHORIZATION=f"Token {key}")
    assert answer.status_code == 200 and answer.json()["results"] == []
