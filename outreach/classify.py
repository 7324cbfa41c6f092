"""What a creator's reply means for consent, decided by explicit rules that are stored with it.

Strict on purpose: a grant needs the request's approval hashtag as a word of its own; anything
the rules cannot read with confidence goes to a person ("needs review").
"""

import re
from dataclasses import dataclass

GRANTED = "granted"
DECLINED = "declined"
REVOKED = "revoked"
OPTED_OUT = "opted_out"
OPTED_IN = "opted_in"
NEEDS_REVIEW = "needs_review"

# The whole message is one of these (with optional punctuation): the usual STOP keywords.
OPT_OUT_WORDS = re.compile(
    r"^\W*(stop|stop all|stopall|unsubscribe|end|quit|cancel|opt[\s-]?out|remove me|arr[êe]t|stopp)\W*$", re.I
)
# Or it says so in a sentence.
OPT_OUT_PHRASES = re.compile(
    r"\b(stop (messaging|contacting|texting|emailing|writing to) me|(don'?t|do not) (message|contact|dm|email|text) me"
    r"|unsubscribe me|leave me alone|no more messages|take me off|remove me from)\b",
    re.I,
)
DECLINE_WORDS = re.compile(
    r"^\W*(no|nope|no thanks|no thank you|no,? thanks?|not interested|i decline|decline)\W*$", re.I
)
DECLINE_PHRASES = re.compile(
    r"\b((don'?t|do not|please don'?t) (use|repost|share|post)|not comfortable|i('m| am) not ok|i decline"
    r"|not interested|no permission|you (may|can) ?not use)\b",
    re.I,
)


# Withdrawing rights already given: the demo terms' "STOP RIGHTS" keyword, or a sentence saying so.
REVOKE_KEYWORD = re.compile(r"^\W*stop\s+rights\W*$", re.I)
POST = r"(photo|picture|pic|post|video|reel|content|story|image)"
REVOKE_PHRASES = re.compile(
    rf"\b(stop using|(please )?(remove|delete|take down) (my|the|this|that) {POST}"
    rf"|take (my|the|this|that) {POST} (down|off)|take (it|that|this) (down|off)"
    r"|i (withdraw|revoke)|(withdraw|revoke) (my )?(permission|consent|rights)|no longer (ok|okay|allowed)"
    r"|stop rights)\b",
    re.I,
)
# Asking to hear from us again after an opt-out: the usual START keywords, the whole message.
OPT_IN_WORDS = re.compile(r"^\W*(start|unstop|opt[\s-]?in|resume|subscribe)\W*$", re.I)


@dataclass(frozen=True)
class Verdict:
    outcome: str
    rule: str
    hashtag: str = ""


def hashtag_pattern(hashtag: str) -> re.Pattern:
    """The hashtag as its own word: not inside a longer tag or word, any letter case."""
    return re.compile(r"(?<![\w#])" + re.escape(hashtag) + r"(?!\w)", re.I)


def classify(text: str, open_hashtags: list[str], *, has_granted: bool = False) -> Verdict:
    """Decide from the reply's own words, the hashtags of the creator's open requests, and whether
    they have granted rights they could now withdraw."""
    words = (text or "").strip()
    if REVOKE_KEYWORD.match(words):
        if has_granted and not open_hashtags:
            return Verdict(REVOKED, "withdrawal keyword 'STOP RIGHTS' of granted rights")
        return Verdict(NEEDS_REVIEW, "'STOP RIGHTS' with nothing or more than withdrawal to read: a person decides")
    if OPT_IN_WORDS.match(words):
        return Verdict(OPTED_IN, f"opt-in keyword {words.strip().upper()!r}")
    if OPT_OUT_WORDS.match(words):
        return Verdict(OPTED_OUT, f"opt-out keyword {words.strip().upper()!r}")
    phrase = OPT_OUT_PHRASES.search(words)
    if phrase:
        return Verdict(OPTED_OUT, f"opt-out phrase {phrase.group(0).lower()!r}")
    declines = DECLINE_WORDS.match(words) or DECLINE_PHRASES.search(words)
    matched = [tag for tag in open_hashtags if hashtag_pattern(tag).search(words)]
    if matched and not declines and len(set(map(str.lower, matched))) == 1:
        return Verdict(GRANTED, f"approval hashtag {matched[0]} as its own word", matched[0])
    if matched:
        return Verdict(NEEDS_REVIEW, "the hashtag came with words that may refuse, or several hashtags matched")
    if declines and open_hashtags:
        return Verdict(DECLINED, f"refusal {declines.group(0).strip().lower()!r} to an open request")
    withdrawal = REVOKE_PHRASES.search(words)
    if withdrawal and has_granted and not open_hashtags:
        return Verdict(REVOKED, f"withdrawal {withdrawal.group(0).lower()!r} of granted rights")
    if withdrawal:
        return Verdict(NEEDS_REVIEW, f"{withdrawal.group(0).lower()!r} may withdraw rights: a person decides")
    return Verdict(NEEDS_REVIEW, "no rule applies: a person decides")
