"""A Content-Security-Policy that forbids inline scripts and styles, with pages written to run under it
(the Playwright tests in tests/web fail on any console error, a CSP violation included)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def test_pages_carry_a_strict_policy(alice_client):
    policy = alice_client.get("/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_the_login_page_carries_it_too(client):
    assert "script-src 'self'" in client.get("/login/")["Content-Security-Policy"]


def test_the_standalone_pages_style_only_with_this_responses_nonce(client):
    answer = client.get("/unsubscribe/not-a-token/")
    nonce = re.search(r"'nonce-([^']+)'", answer["Content-Security-Policy"]).group(1)
    assert f'<style nonce="{nonce}">'.encode() in answer.content


def test_htmx_is_told_not_to_inline_its_style_nor_to_eval(alice_client):
    page = alice_client.get("/").content.decode()
    assert '"includeIndicatorStyles": false' in page and '"allowEval": false' in page


INLINE = re.compile(r"""<script(?![^>]*\bsrc=)[^>]*>|\sstyle\s*=|\son[a-z]+\s*=\s*["']|javascript:|hx-on""", re.I)


def test_no_template_or_script_has_inline_code_or_style():
    found = []
    for path in [*ROOT.glob("templates/**/*.html"), *ROOT.glob("*/templates/**/*.html")]:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if INLINE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    for path in ROOT.glob("web/static/web/*.js"):
        if path.name.endswith(".min.js"):
            continue
        text = path.read_text()
        for pattern in (".style.cssText", "setAttribute('style'", 'setAttribute("style"', "eval(", "new Function("):
            if pattern in text:
                found.append(f"{path.relative_to(ROOT)}: {pattern}")
    assert not found, "\n".join(found)
