import hypothesis
import pytest
from hypothesis import strategies as st

from crm import handles
from crm.handles import InvalidHandle, normalize_content_url, normalize_handle, profile_url


@pytest.mark.parametrize(
    ("platform", "given", "stored"),
    [
        ("instagram", "@Jane.Doe", "jane.doe"),
        ("instagram", "  jane_doe ", "jane_doe"),
        ("instagram", "https://www.instagram.com/Jane.Doe/?hl=en", "jane.doe"),
        ("instagram", "instagram.com/jane.doe", "jane.doe"),
        ("instagram", "https://instagram.com/stories/jane.doe/123", "jane.doe"),
        ("tiktok", "https://www.tiktok.com/@Foo.Bar?lang=en", "foo.bar"),
        ("tiktok", "@foo.bar", "foo.bar"),
        ("x", "https://twitter.com/JackD", "jackd"),
        ("x", "https://x.com/jackd/status/1", "jackd"),
        ("youtube", "https://youtube.com/@MrBeast", "mrbeast"),
        ("youtube", "https://www.youtube.com/channel/UCX6OQ3DkcsbYNE6H8uQQuVA", "UCX6OQ3DkcsbYNE6H8uQQuVA"),
        ("facebook", "https://m.facebook.com/profile.php?id=100012345678", "100012345678"),
        ("facebook", "facebook.com/Jane.Doe", "jane.doe"),
        ("linkedin", "https://www.linkedin.com/in/Jane-Doe-12ab/", "jane-doe-12ab"),
        ("whatsapp", "+44 7700 900123", "447700900123"),
        ("whatsapp", "https://wa.me/447700900123", "447700900123"),
    ],
)
def test_it_normalises_handles_and_profile_urls(platform, given, stored):
    assert normalize_handle(platform, given) == stored


@pytest.mark.parametrize(
    ("platform", "given", "message"),
    [
        ("instagram", "", "is empty"),
        ("instagram", "https://www.tiktok.com/@jane", "is a tiktok URL, expected one on instagram"),
        ("instagram", "https://www.instagram.com/p/Cabc123/", "is not a profile URL on instagram"),
        ("instagram", "https://example.com/jane", "is not a profile URL on instagram"),
        ("x", "much_too_long_for_x_handles", "is not a valid x handle"),
        ("tiktok", "https://www.tiktok.com/jane", "expected tiktok.com/@name"),
        ("linkedin", "https://www.linkedin.com/company/acme", "not a LinkedIn member profile"),
        ("whatsapp", "call me", "is not a valid whatsapp handle"),
        ("myspace", "tom", "unknown platform"),
    ],
)
def test_it_explains_why_a_handle_is_refused(platform, given, message):
    with pytest.raises(InvalidHandle, match=message):
        normalize_handle(platform, given)


def test_profile_urls_lead_back_to_the_same_handle():
    for platform, handle in [("instagram", "jane.doe"), ("tiktok", "foo.bar"), ("x", "jackd"), ("youtube", "mrbeast")]:
        assert normalize_handle(platform, profile_url(platform, handle)) == handle


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("https://www.instagram.com/p/Cxyz/?igsh=abc&utm_source=ig", "https://instagram.com/p/Cxyz"),
        ("instagram.com/p/Cxyz/", "https://instagram.com/p/Cxyz"),
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42#frag", "https://youtube.com/watch?v=dQw4w9WgXcQ"),
        ("https://m.facebook.com/photo.php?fbid=123&set=a", "https://facebook.com/photo.php?fbid=123"),
    ],
)
def test_it_normalises_content_urls(given, stored):
    assert normalize_content_url(given) == stored


def test_it_refuses_content_urls_that_are_not_web_addresses():
    with pytest.raises(ValueError, match="not a web address"):
        normalize_content_url("not a url")


@hypothesis.settings(max_examples=500, derandomize=True, database=None)
@hypothesis.given(
    st.text(alphabet="@._-aAbBcwWmMx019", max_size=12),
    st.sampled_from(["", ".com", "x.com", "wa.me", ".instagram.com", "FB.COM", "instagr.am", ".tiktok.co"]),
)
def test_a_bare_handle_is_told_from_a_url_without_parsing_it_as_the_slow_way_would(start, end):
    """The importer's hot path skips urlsplit for bare handles: it must decide as urlsplit does."""
    raw = start + end
    assert handles._looks_like_url(raw) == handles._parses_as_url(raw), raw
