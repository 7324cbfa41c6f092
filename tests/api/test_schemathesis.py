"""Schemathesis over the whole OpenAPI schema, in process (WSGI) on the test database: whatever an
admin sends to any operation, the answer is never a 5xx and always matches the schema (its status
code, content type, headers and body).

Hypothesis draws the requests, SCHEMATHESIS_EXAMPLES of them per operation (40 in CI, 8 in a plain
`make test`, so a developer's run stays short; the requests are the same on every run). Half the time
a path's ids are swapped for rows seeded here, so the operations on existing resources are exercised
and not only their 404s.
"""

import contextlib
import functools
import ipaddress
import os
import socket

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.db import DatabaseError, close_old_connections, transaction
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

import integrations.services
from config.wsgi import application
from crm import services
from crm.events import EVENT_TYPES
from crm.services import column_mappings
from outreach.models import Conversation, ConversationMessage, OutreachMessage
from tests.database import kept_for_module
from tests.factories import (
    CampaignFactory,
    CampaignMemberFactory,
    ConsentEventFactory,
    CreatorFactory,
    PermissionRequestFactory,
    SocialAccountFactory,
    TagFactory,
    UserFactory,
)
from tests.outreach.factories import MessageTemplateFactory, SenderAccountFactory, SequenceStepFactory

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "40"))  # the Makefile says 8 outside CI
# Every default check runs but two, which judge how lenient we are with requests, not our answers:
# - positive_data_acceptance wants a 2xx for any request the schema allows, yet rules a schema cannot
#   state answer a documented 400 by field: "a sequence needs a step", "cannot revoke a draft
#   request", an id in a body that no row has, a NUL character PostgreSQL cannot store.
# - negative_data_rejection wants a 4xx for any request outside the schema, yet DRF deliberately
#   takes a number for a text field (`"name": 155897`). What it found that mattered (empty or
#   malformed filters and page sizes silently ignored) is fixed and pinned in test_strict_queries.py.
# Invalid requests are still sent: a 5xx, or an answer outside the schema, fails this test.
EXCLUDED_CHECKS = [positive_data_acceptance, negative_data_rejection]
# No query parameters the schema does not name: ignoring those is what HTTP APIs do (a client's
# cache-buster), not a bug.
CONFIG = schemathesis.Config.from_dict({"generation": {"allow-extra-parameters": False}})


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """An admin with a token and a row of each kind, their ids by the path segment or field naming them:
    made once for the module's tests (each test's requests are rolled back after it)."""
    with kept_for_module(django_db_blocker):
        yield seed()


@pytest.fixture
def world(seeded, db, settings):
    settings.API_RATE_LIMIT = ""  # thousands of requests from one token in a minute: not what is tested
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True  # a documentation address (203.0.113.0/24) for the hooks
    return seeded


def seed():
    admin = UserFactory(username="root")
    key = services.create_api_token(admin, name="schemathesis", role="admin")[1]
    campaign = CampaignFactory(owner=admin)
    creator = CreatorFactory(owner=admin, email="maya@example.com")
    creator.tags.add(TagFactory(name="skincare"))
    account = SocialAccountFactory(creator=creator, platform="instagram", handle="maya.hart")
    member = CampaignMemberFactory(campaign=campaign, creator=creator)
    request = PermissionRequestFactory(campaign=campaign, content__creator=creator, content__campaign=campaign)
    event = ConsentEventFactory(creator=creator)
    template = MessageTemplateFactory(created_by=admin)
    step = SequenceStepFactory(template=template)
    sender = SenderAccountFactory(owner=admin)
    conversation = Conversation.objects.create(creator=creator, platform="instagram", sender_account=sender)
    message = ConversationMessage.objects.create(
        conversation=conversation, platform="instagram", direction="in", text="Yes! #YesAcme", at=timezone.now()
    )
    outbox = OutreachMessage.objects.create(
        campaign=campaign, creator=creator, sender_account=sender, platform="instagram", rendered_text="Hi",
        status=OutreachMessage.Status.MANUAL,
    )  # fmt: skip
    with override_settings(WEBHOOKS_ALLOW_PRIVATE_URLS=True):  # a documentation address (203.0.113.0/24)
        subscription, _ = integrations.services.create_subscription(
            actor=admin, url="https://203.0.113.7/hooks", events_wanted=[next(iter(EVENT_TYPES))]
        )
    mapping = column_mappings.create_mapping(
        actor=admin, name="Agency export", columns=[["Full name", "name"], ["IG", "instagram"], ["Shoe size", ""]]
    )
    ids = {
        "import-mappings": mapping.pk,
        "webhook-subscriptions": subscription.pk,
        "creators": creator.pk,
        "social-accounts": account.pk,
        "tags": creator.tags.get().pk,
        "campaigns": campaign.pk,
        "member_id": member.pk,
        "content": request.content_id,
        "permission-requests": request.pk,
        "consent-events": event.pk,
        "templates": template.pk,
        "sequences": step.sequence_id,
        "sender-accounts": sender.pk,
        "conversations": conversation.pk,
        "message_id": message.pk,
        "outreach-messages": outbox.pk,
    }
    fields = {
        "creator": creator.pk,
        "creators": [creator.pk],
        "campaign": campaign.pk,
        "content": request.content_id,
        "template": template.pk,
        "sender_account": sender.pk,
        "sequence": step.sequence_id,
    }
    return key, ids, fields


@pytest.fixture
def no_dns(monkeypatch):
    """No network beyond loopback, as in every test: the webhook URLs Hypothesis makes up are checked by
    resolving their host (integrations/ssrf.py); names resolve to nothing here, addresses stay as they are."""
    resolve = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if host != "localhost":
                raise socket.gaierror(socket.EAI_NONAME, "no name is resolved in tests") from None
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def in_process():
    """As Django's test client does: a request's end must not close the test's connection (and so roll
    back its transaction)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def with_seeded_ids(case, ids, fields) -> None:
    """Point the case at seeded rows: path ids by the resource's segment (or their own name), and the
    body's references to other rows. New containers, not edits in place, so that Schemathesis sees the
    change and judges the request as sent (a negative case may have become a valid one)."""
    resource = case.operation.path.removeprefix("/api/v1/").split("/")[0]
    if case.path_parameters:
        strings = {p.name for p in case.operation.path_parameters if p.definition["schema"].get("type") == "string"}
        path = dict(case.path_parameters)
        for name in path:
            seeded = ids.get(resource if name == "id" else name)
            if seeded is not None:
                path[name] = str(seeded) if name in strings else seeded  # `member_id` is a string with a pattern
        case.path_parameters = path
    if isinstance(case.body, dict) and fields.keys() & case.body.keys():
        case.body = {name: fields.get(name, value) for name, value in case.body.items()}


@contextlib.contextmanager
def own_transaction():
    """Each request in a savepoint, kept if it can be: a database error in one request (a 500, reported)
    must not abort the test's transaction under every request after it, as in production it would not."""
    savepoint = transaction.savepoint()
    try:
        yield
    finally:
        try:
            transaction.savepoint_commit(savepoint)
        except DatabaseError:
            transaction.savepoint_rollback(savepoint)


def failures_of(operation, key, ids, fields) -> str | None:
    """Hypothesis over one operation, valid and invalid requests alike; the first failure's report."""
    modes = [operation.as_strategy(generation_mode=mode) for mode in GenerationMode]

    @hypothesis.given(case=st.one_of(modes), seeded=st.booleans())
    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,  # the same requests on every run: CI fails for a change, not for luck
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the report's curl line is enough
        suppress_health_check=list(HealthCheck),
    )
    def run(case, seeded):
        if seeded:
            with_seeded_ids(case, ids, fields)
        with own_transaction():
            case.call_and_validate(headers={"Authorization": f"Token {key}"}, excluded_checks=EXCLUDED_CHECKS)

    try:
        run()
    except (Exception, BaseExceptionGroup) as error:  # a FailureGroup, or several grouped by Hypothesis
        return str(error)
    return None


@functools.cache
def load_schema():
    """The schema as the API serves it (over WSGI), once per test process: every test below reads it."""
    return schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)


def operation_keys() -> list[tuple[str, str]]:
    """(method, path) of every operation, at collection time, so that each is its own test and xdist
    spreads them over its workers. Reading the served schema needs no database."""
    keys = []
    for result in load_schema().get_all_operations():
        try:
            operation = result.ok()
        except Exception:  # reported by the test below, not as a collection error
            continue
        keys.append((operation.method, operation.path))
    return keys


OPERATIONS = operation_keys()


def test_the_schema_describes_every_operation_well():
    # An operation the schema describes badly fails here (result.ok() raises), and every operation is
    # one of the tests below.
    operations = [result.ok() for result in load_schema().get_all_operations()]
    assert len(operations) > 20
    assert [(operation.method, operation.path) for operation in operations] == OPERATIONS


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m.upper()} {p}" for m, p in OPERATIONS])
def test_it_answers_the_operation_within_its_schema(world, in_process, no_dns, method, path):
    """Each operation on its own seeded rows (a deletion cannot take them from another operation)."""
    key, ids, fields = world
    operation = load_schema()[path][method]
    failure = failures_of(operation, key, ids, fields)
    assert not failure, f"=== {operation.label}\n{failure}"
