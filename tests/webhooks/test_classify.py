"""Every classification rule, on the creator's own words."""

import pytest

from outreach.classify import DECLINED, GRANTED, NEEDS_REVIEW, OPTED_OUT, classify

TAGS = ["#YesAcme"]


@pytest.mark.parametrize("text", ["#YesAcme", "yes!! #yesacme 🙌", "Sure #YESACME, go ahead", "#YesAcme."])
def test_the_approval_hashtag_as_its_own_word_grants(text):
    verdict = classify(text, TAGS)
    assert (verdict.outcome, verdict.hashtag) == (GRANTED, "#YesAcme")
    assert verdict.rule == "approval hashtag #YesAcme as its own word"


@pytest.mark.parametrize("text", ["#YesAcmeNot", "##YesAcme2", "YesAcme", "yes acme", "#Yes Acme"])
def test_near_misses_do_not_grant(text):
    assert classify(text, TAGS).outcome != GRANTED


def test_a_hashtag_with_a_refusal_goes_to_a_person():
    assert classify("#YesAcme but please don't use it in ads", TAGS).outcome == NEEDS_REVIEW


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop",
        " Unsubscribe. ",
        "Stop all",
        "opt-out",
        "Please stop messaging me",
        "don't message me again",
        "Leave me alone",
    ],
)
def test_stop_words_opt_out_even_without_a_request(text):
    assert classify(text, []).outcome == OPTED_OUT


def test_stop_wins_over_a_hashtag():
    assert classify("STOP", TAGS).outcome == OPTED_OUT


@pytest.mark.parametrize("text", ["No", "no thanks!", "Not interested", "Please don't use my photo"])
def test_refusals_decline_an_open_request(text):
    assert classify(text, TAGS).outcome == DECLINED


def test_a_refusal_without_an_open_request_is_for_a_person():
    assert classify("no thanks", []).outcome == NEEDS_REVIEW


@pytest.mark.parametrize("text", ["Sounds great, what is the budget?", "Stop by our booth!", "no way, I love it!"])
def test_anything_else_needs_review(text):
    assert classify(text, TAGS).outcome == NEEDS_REVIEW


@pytest.mark.parametrize("text", ["Please stop using my photo", "remove my post please", "I withdraw my permission"])
def test_withdrawal_of_granted_rights_revokes(text):
    from outreach.classify import REVOKED

    assert classify(text, [], has_granted=True).outcome == REVOKED
    assert classify(text, [], has_granted=False).outcome == NEEDS_REVIEW
