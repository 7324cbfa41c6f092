"""Fixtures for the pages: signed-in clients per persona, and a real Chromium for browser tests.

Browser tests use pytest-django's `live_server` and Playwright's sync API driving Debian's Chromium
(its headless shell where installed, else `/usr/bin/chromium`; `.ci/run` installs both); without it
they skip and say why. Any console error or uncaught page error fails the test.
"""

import contextlib
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from django.db import connections

from crm.models import AccessRole, Role
from tests.factories import UserFactory

# Debian's Chromium, as its headless shell where installed (`.ci/run` installs both packages): the same
# engine and version, which Playwright itself runs headless tests on; it spends a third less CPU than the
# full browser in headless mode. CHROMIUM_PATH=/usr/bin/chromium runs the tests on the full browser.
HEADLESS_SHELL = "/usr/bin/chromium-headless-shell"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or (
    HEADLESS_SHELL if Path(HEADLESS_SHELL).is_file() else "/usr/bin/chromium"
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def viewer(db):
    """dave reads everything he can see and may change nothing."""
    user = UserFactory(username="dave", first_name="Dave")
    AccessRole.objects.create(user=user, role=Role.VIEWER)
    return user


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


@contextlib.contextmanager
def launched_chromium():
    """Playwright's Chromium, with Django's async-safety switch off only while it runs: Playwright's sync
    API keeps an event loop in this thread, and the flag must not leak into other tests (nor into the
    processes they start, e.g. `check --deploy`, which refuses it). Skips (with the reason) where
    Chromium or Playwright is not installed."""
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        pytest.skip(
            f"Chromium not found at {CHROMIUM}: `.ci/run` installs Debian's "
            "(apt-get install chromium chromium-headless-shell)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed: pip install -r requirements/dev.txt")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
            # While Playwright's loop runs in this thread, Django's connections belong to its context:
            # one opened there is closed here, or PostgreSQL keeps it open past the test database's end.
            connections.close_all()


@pytest.fixture
def chromium():
    """A Chromium for one test, in a module with tests that are not browser tests."""
    with launched_chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def module_chromium():
    """One Chromium for a whole module (and test process) of browser tests: starting one costs about half
    a second. A module whose every test drives a browser uses it as its `chromium`; each test still has
    a fresh browser context (own cookies, storage and pages), and the flag is off again once the module
    is done."""
    with launched_chromium() as browser:
        yield browser


class InFlight:
    """The live server's WSGI app, counting the requests still being answered: from the call until the
    response's close(), where Django ends the request (and lets go of the database connection)."""

    def __init__(self, app):
        self.app, self.count, self.changed = app, 0, threading.Condition()

    def __call__(self, environ, start_response):
        with self.changed:
            self.count += 1
        try:
            response = self.app(environ, start_response)
        except BaseException:
            self.done()
            raise
        return ClosingResponse(response, self.done)

    def done(self) -> None:
        with self.changed:
            self.count -= 1
            self.changed.notify_all()

    def wait_until_idle(self, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.count == 0, timeout)


class ClosingResponse:
    """A WSGI response that says when the server closed it (once)."""

    def __init__(self, response, on_close):
        self.response, self.on_close = response, on_close

    def __iter__(self):
        return iter(self.response)

    def close(self) -> None:
        try:
            if hasattr(self.response, "close"):
                self.response.close()
        finally:
            on_close, self.on_close = self.on_close, None
            if on_close:
                on_close()


@pytest.fixture(scope="session")
def live_server(live_server):
    """pytest-django's live server, its app wrapped (wsgiref's public get_app/set_app) so that
    `finish_live_requests` knows which requests are still being answered."""
    httpd = live_server.thread.httpd
    if not isinstance(httpd.get_app(), InFlight):
        httpd.set_app(InFlight(httpd.get_app()))
    return live_server


def finish_live_requests(live_server, timeout: float = 10.0) -> None:
    """Wait for the requests a closed browser left in flight on the live server (an htmx poll, a
    preview fetched as one types): they use the test's database (on SQLite the very same connection),
    and the test's teardown must not flush the tables under a request still running."""
    in_flight = live_server.thread.httpd.get_app()
    for _ in range(2):  # a request accepted just as the others finished is waited for too
        assert in_flight.wait_until_idle(timeout), f"{in_flight.count} request(s) still running after {timeout} s"
        time.sleep(0.05)


class BrowserErrors(list):
    """Console errors and uncaught exceptions seen by a page; a test fails if any remain."""


@pytest.fixture
def browser_page(chromium, live_server):
    """A fresh browser context (own cookies) on the live server; fails the test on any console error."""
    context = chromium.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 860})
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors = BrowserErrors()
    page.on("console", lambda message: message.type == "error" and errors.append(f"console: {message.text}"))
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.errors = errors
    yield page
    context.close()
    finish_live_requests(live_server)
    assert not errors, "the browser reported errors:\n" + "\n".join(errors)


def sign_in(page, username: str, password: str = "password") -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login/" not in url)


def htmx_settled(page) -> None:
    """Wait until no htmx request is in flight (htmx marks the element that made one `htmx-request`).
    A page's `hx-trigger="load"` requests start as it loads, so after `goto` this is the page as the
    manager sees it; Playwright's "networkidle" would also wait, but half a second after every page."""
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


def duplicate_ids(page) -> list[str]:
    """The ids that more than one element of the page carries (a label then names the wrong field)."""
    return page.evaluate("""() => { const seen = {}, twice = [];
        document.querySelectorAll('[id]').forEach(e => { if (seen[e.id]) twice.push(e.id); seen[e.id] = 1; });
        return twice; }""")


def screenshot(page, name: str) -> None:
    """Save a screenshot for the README when WEB_SCREENSHOTS=1 (docs/screenshots/<name>.png)."""
    if os.environ.get("WEB_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
