"""The creators list by followers walks the accounts' index instead of sorting every creator: the
same creators in the same order, page after page, as ORDER BY each creator's largest count."""

import pytest

from crm.models import Creator
from tests.factories import CreatorFactory, SocialAccountFactory
from web import top_followers
from web.views.creators import _with_top_followers

pytestmark = pytest.mark.django_db


@pytest.fixture
def creators():
    counts = [[500, 20], [500], [None], [], [7, 7], [None, 3], [9000], [20, 500, 1], [], [3]]
    made = []
    for accounts in counts:
        creator = CreatorFactory()
        for count in accounts:
            SocialAccountFactory(creator=creator, follower_count=count)
        made.append(creator)
    return made


def expected(queryset):
    return [(c.pk, c.top_followers) for c in _with_top_followers(queryset).order_by("-top_followers", "-id")]


def walk(queryset, size):
    seen, cursor = [], ""
    for _ in range(50):
        page = top_followers.followers_page(queryset, cursor, size, matching=None)
        seen += [(c.pk, c.top_followers) for c in page.rows]
        cursor = page.next_cursor
        if not cursor:
            return seen
    raise AssertionError("the pages never end")


@pytest.mark.parametrize("size", [1, 2, 3, 50])
def test_the_pages_hold_the_same_creators_in_the_same_order(creators, size):
    assert walk(Creator.objects.all(), size) == expected(Creator.objects.all())


def test_a_filter_applies_to_the_walk(creators):
    queryset = Creator.objects.filter(pk__in=[c.pk for c in creators[::2]])
    assert walk(queryset, 2) == expected(queryset)


def test_a_narrow_filter_keeps_the_plain_pages(creators):
    assert top_followers.followers_page(Creator.objects.all(), "", 50, matching=12) is None


def test_the_page_shows_the_biggest_first(client, alice, creators):
    client.force_login(alice)
    response = client.get("/creators/", {"sort": "followers"})
    rows = [creator.pk for creator in response.context["page"].rows]
    assert rows == [pk for pk, _ in expected(Creator.objects.all())]
