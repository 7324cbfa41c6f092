# ruff: noqa: E501  (real clients' quote headers are long lines)
"""The creator's own words, split from what mail clients quote (outreach.mail.replytext): above,
below or between the quoted lines, in several languages, and HTML-only mail. A split that cannot be
trusted says so."""

import pytest

from outreach.mail.replytext import html_to_text, split_reply

REQUEST = "Hi Maya! Reply #YesAcme to let us share your post."

PLAIN = {
    "gmail en": (
        f"Yes, go ahead!\n\nOn Tue, Nov 25, 2026 at 9:00 AM Acme <partners@acme.example> wrote:\n> {REQUEST}\n",
        "Yes, go ahead!",
    ),
    "gmail de": (
        f"Ja, gerne.\n\nAm Di., 25. Nov. 2026 um 09:00 Uhr schrieb Acme <partners@acme.example>:\n> {REQUEST}\n",
        "Ja, gerne.",
    ),
    "gmail fr": (
        f"Avec plaisir\n\nLe mar. 25 nov. 2026 à 09:00, Acme <partners@acme.example> a écrit :\n> {REQUEST}\n",
        "Avec plaisir",
    ),
    "gmail es": (
        f"Claro que sí\n\nEl mar, 25 nov 2026 a las 9:00, Acme (<partners@acme.example>) escribió:\n> {REQUEST}\n",
        "Claro que sí",
    ),
    "outlook desktop": (
        f"Sure thing.\n\n________________________________\nFrom: Acme <partners@acme.example>\nSent: Tuesday, November 25, 2026 9:00 AM\nTo: Maya Hart <maya@creator.example>\nSubject: Acme x Maya\n\n{REQUEST}\n",
        "Sure thing.",
    ),
    "outlook desktop de": (
        f"Passt.\n\nVon: Acme <partners@acme.example>\nGesendet: Dienstag, 25. November 2026 09:00\nAn: Maya Hart\nBetreff: Acme x Maya\n\n{REQUEST}\n",
        "Passt.",
    ),
    "apple mail": (
        f"Sounds good\n\n> On 25 Nov 2026, at 09:00, Acme <partners@acme.example> wrote:\n> \n> {REQUEST}\n",
        "Sounds good",
    ),
    "ios": (
        f"Sure\n\nSent from my iPhone\n\n> On Nov 25, 2026, at 09:00, Acme <partners@acme.example> wrote:\n>\n> {REQUEST}\n",
        "Sure",
    ),
    "android gmail": (
        f"ok!\n\nOn Tue, 25 Nov 2026, 09:00 Acme, <partners@acme.example> wrote:\n\n> {REQUEST}\n>\n",
        "ok!",
    ),
    "samsung": (
        f"fine\n\n\n\nSent from my Galaxy\n\n\n-------- Original message --------\nFrom: Acme <partners@acme.example>\nDate: 11/25/26 09:00 (GMT+01:00)\nTo: maya@creator.example\nSubject: Acme x Maya\n\n{REQUEST}\n",
        "fine",
    ),
    "yahoo": (
        f"Fine by me\n\n    On Tuesday, November 25, 2026, 09:00:00 AM GMT+1, Acme <partners@acme.example> wrote:\n\n    {REQUEST}\n",
        "Fine by me",
    ),
    "thunderbird": (f"Yes.\n\nOn 25/11/2026 09:00, Acme wrote:\n> {REQUEST}\n", "Yes."),
    "thunderbird bottom posting": (
        f"On 25/11/2026 09:00, Acme wrote:\n> {REQUEST}\n\nYes, #YesAcme\n",
        "Yes, #YesAcme",
    ),
    "interleaved": (f"> Can we use your video?\nYes you can.\n> {REQUEST}\n#YesAcme\n", "Yes you can.\n#YesAcme"),
    "signature": ("Happy to!\n\nBest,\nMaya\n--\nMaya Hart | Creator\n", "Happy to!"),
}


@pytest.mark.parametrize("name", list(PLAIN))
def test_the_creators_words_are_kept_and_the_quote_dropped(name):
    text, expected = PLAIN[name]
    split = split_reply(text)
    assert split.certain, split.why
    assert split.text == expected
    assert "#YesAcme" not in split.text or "#YesAcme" in expected


@pytest.mark.parametrize(
    "text",
    [
        f"\nOn Tue, Nov 25, 2026 at 9:00 AM Acme <partners@acme.example> wrote:\n> {REQUEST}\n",
        f"> {REQUEST}\n",
        "",
        "   \n",
    ],
)
def test_nothing_of_the_creators_is_uncertain(text):
    split = split_reply(text)
    assert not split.certain
    assert "#YesAcme" not in split.text


def test_html_quotes_of_gmail_outlook_web_and_yahoo_are_removed():
    gmail = (
        '<div dir="ltr">Yes <b>please</b></div><br><div class="gmail_quote"><div class="gmail_attr">On Tue, Acme wrote:'
        f'</div><blockquote class="gmail_quote">{REQUEST}</blockquote></div>'
    )
    outlook_web = f'<div>Sure</div><div id="appendonsend"></div><hr><div id="divRplyFwdMsg"><b>From:</b> Acme</div><div>{REQUEST}</div>'
    yahoo = f'<div>Fine</div><div class="yahoo_quoted"><div>On Tuesday, Acme wrote:</div><div>{REQUEST}</div></div>'
    assert html_to_text(gmail).strip() == "Yes please"
    assert html_to_text(outlook_web).strip() == "Sure"
    assert html_to_text(yahoo).strip() == "Fine"
