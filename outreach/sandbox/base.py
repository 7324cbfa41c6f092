"""A small threaded HTTP server on loopback that records every request and answers by route."""

import contextlib
import json
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import requests


@dataclass
class Received:
    """One request as the fake platform saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    json: object = None
    client: str = ""  # the caller's address (which "machine" called, in the scale-out test)

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


@dataclass
class Reply:
    status: int = 200
    body: object = None  # dict/list -> JSON; str/bytes -> as is
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Received, re.Match], Reply]


class FakePlatform:
    """Subclasses register routes in `__init__` with `self.route(method, regex, handler)`.

    Thread-safe: handlers run on the server's threads and must take `self.lock` around state.
    Use as a context manager or call start()/stop(); `url` is http://127.0.0.1:<port>.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.host, self.port = host, port
        self.lock = threading.RLock()
        self.received: list[Received] = []
        self._routes: list[tuple[str, re.Pattern, Handler]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method.upper(), re.compile(pattern), handler))

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def requests_to(self, pattern: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if re.search(pattern, r.path)]

    def start(self) -> "FakePlatform":
        platform = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; without TCP_NODELAY, Nagle and the
            # client's delayed ACK add ~40 ms to every keep-alive request.
            disable_nagle_algorithm = True

            def log_message(self, *args):  # quiet
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                received = Received(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    client=self.client_address[0],
                )
                try:
                    received.json = json.loads(body) if body else None
                except ValueError:
                    received.json = None
                reply = platform.dispatch(received)
                payload = reply.body
                content_type = "application/json"
                if isinstance(payload, bytes):
                    data, content_type = payload, "application/octet-stream"
                elif isinstance(payload, str):
                    data, content_type = payload.encode(), "text/plain; charset=utf-8"
                else:
                    data = json.dumps(payload if payload is not None else {}).encode()
                self.send_response(reply.status)
                headers = {"Content-Type": content_type, **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)  # fails only when the client gave up waiting (timeout tests)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        class Server(ThreadingHTTPServer):
            request_queue_size = 1024  # hundreds of concurrent sends in the exactly-once tests
            daemon_threads = True

            def handle_error(self, request, client_address):
                # A client hanging up on a late answer is what the timeout tests do, not a fault.
                if not isinstance(sys.exc_info()[1], ConnectionError):
                    super().handle_error(request, client_address)

        self._server = Server((self.host, self.port), RequestHandler)
        self.port = self._server.server_address[1]
        # Checking ten times a second whether to stop: stop() then takes a tenth of a second, not half.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.1,), name=type(self).__name__, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def dispatch(self, received: Received) -> Reply:
        with self.lock:
            self.received.append(received)
        for method, pattern, handler in self._routes:
            if method == received.method:
                match = pattern.fullmatch(received.path)
                if match:
                    return handler(received, match)
        return Reply(404, {"error": {"message": f"no route for {received.method} {received.path}"}})


def post_webhook(url: str, body: bytes, headers: dict[str, str]) -> int:
    """Deliver one signed webhook to the CRM as the platform would (a JSON POST); the status code."""
    answer = requests.post(url, data=body, headers={"Content-Type": "application/json", **headers}, timeout=10)
    return answer.status_code
