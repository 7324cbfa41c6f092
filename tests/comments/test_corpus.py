"""The comment and mention entries of the webhook corpus (tests/fixtures/webhooks/MANIFEST.json),
read by outreach/webhooks/meta_comments.py through meta.parse: every expectation the manifest states."""

import json
from pathlib import Path

import pytest

from outreach.webhooks import meta
from outreach.webhooks.meta_comments import InboundComment

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "webhooks"
MANIFEST = json.loads((CORPUS / "MANIFEST.json").read_text())
ENTRIES = [
    entry
    for entry in (MANIFEST if isinstance(MANIFEST, list) else MANIFEST.get("files", []))
    if entry["provider"] == "meta" and any(e["kind"] == "mention" or "comment_id" in e
                                          for e in entry["expect"]["events"])
]  # fmt: skip
KINDS = {"comment": "comment", "edit": "comment_edited", "delete": "comment_removed", "mention": "mention"}
PLATFORMS = {"instagram": "instagram", "facebook": "messenger"}


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
def test_corpus_comment_shapes(entry):
    parsed = [m for m in meta.parse(json.loads((CORPUS / entry["file"]).read_text())) if isinstance(m, InboundComment)]
    expected = entry["expect"]["events"]
    assert len(parsed) == len(expected)
    for got, want in zip(parsed, expected, strict=True):
        assert got.kind == KINDS[want["kind"]]
        assert got.platform == PLATFORMS[want["platform"]]
        assert got.business_id == want["recipient_id"]
        assert got.media_id == want["media_id"]
        assert got.comment_id == (want.get("comment_id") or "")
        assert got.at.strftime("%Y-%m-%dT%H:%M:%SZ") == want["at"]
        if want["kind"] == "mention":
            continue
        assert got.from_id == want["sender_id"]
        assert got.text == (want["text"] or "")
        parent = want.get("parent_id") or ""
        assert got.parent_id == ("" if parent == want["media_id"] else parent)  # a post is no parent comment
        if "sender_handle" in want:
            assert got.from_username == want["sender_handle"]
        if "sender_name" in want:
            assert got.from_name == want["sender_name"]
        assert got.live == bool(want.get("live"))
        assert got.media_product_type == want.get("media_product_type", got.media_product_type)
        assert got.ad_id == want.get("ad_id", "")


def test_the_corpus_has_every_comment_shape():
    assert {KINDS[e["kind"]] for entry in ENTRIES for e in entry["expect"]["events"]} == set(KINDS.values())
