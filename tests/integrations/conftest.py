"""A real HTTP receiver on loopback that records what it is sent and answers as told, and the
queue in sync mode, for the webhook tests."""

import atexit
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django_q.conf import Conf

from integrations import outbox, services


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes


class Receiver:
    """Answers 200 unless told otherwise (`answer(500, 500)` for the next two requests)."""

    def __init__(self):
        self.received: list[Received] = []
        self.answers: list[tuple[int, dict]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                    status, headers = receiver.answers.pop(0) if receiver.answers else (200, {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                answer = b"ok" if status < 300 else b"receiver says no"
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        atexit.register(self.server.shutdown)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def answer(self, *statuses: int, headers: dict | None = None) -> None:
        self.answers.extend((status, headers or {}) for status in statuses)

    def reset(self) -> None:
        with self.lock:
            self.received.clear()
            self.answers.clear()


_receiver: Receiver | None = None


@pytest.fixture
def receiver(settings):
    """The loopback receiver, with private URLs allowed (it is on 127.0.0.1)."""
    global _receiver
    if _receiver is None:
        _receiver = Receiver()
    _receiver.reset()
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    yield _receiver
    _receiver.reset()


@pytest.fixture(autouse=True)
def sync_queue(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", True)  # django-q2 reads its settings once: patch Conf, not settings


@pytest.fixture(autouse=True)
def no_remembered_event_types():
    """Each test starts with the per-process memory of wanted event types empty: an earlier test's
    subscription, rolled back with its test, would otherwise be remembered for TYPES_TTL (and a test
    counting queries would see the publish ask for its subscribers)."""
    outbox.forget_wanted_types()


@pytest.fixture
def subscribe(receiver, alice):
    """subscribe(events, owner=alice, url=receiver) -> (subscription, secret)"""

    def make(events, *, owner=None, url=None):
        return services.create_subscription(actor=owner or alice, url=url or receiver.url, events_wanted=list(events))

    return make
