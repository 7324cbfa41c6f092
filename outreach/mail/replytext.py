"""The creator's own words in an email reply, without our quoted request or their signature.

The split is mail-parser-reply's (reply headers of Gmail, Outlook desktop and web, Apple Mail, iOS,
Android, Yahoo and Thunderbird in a dozen languages, and signatures); lines quoted with ">" are then
dropped wherever they are, so words written above, below or between quoted lines are kept. HTML-only
mail has its quote containers removed (blockquote, Gmail's gmail_quote, Outlook's divRplyFwdMsg and
appendonsend, Yahoo's yahoo_quoted, Thunderbird's moz-cite-prefix) and is turned to text by
inscriptis. When nothing of the creator's is left, or a quote header is found inside what we kept,
the split is `certain=False` and the reply goes to a person.
"""

import re
from dataclasses import dataclass

import lxml.html
from inscriptis import get_text
from mailparser_reply import EmailReplyParser

LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "sv", "da", "pl", "cs"]
QUOTED_LINE = re.compile(r"^\s*>")
# A reply header left behind (a client or language the library missed): we cannot tell what is quoted.
LEFT_HEADER = re.compile(
    r"^\s*(On .{4,200} wrote:|Le .{4,200} a écrit ?:|Am .{4,200} schrieb .{0,200}:|El .{4,200} escribió:|"
    r"Il .{4,200} ha scritto:|Op .{4,200} geschreven:|-{2,}\s*(Original Message|Ursprüngliche Nachricht|"
    r"Message d'origine|Mensaje original|Messaggio originale|Original message)\s*-{2,}|"
    r"_{10,}|(From|Von|De|Da|Van|Från|Fra|Od): .+)\s*$",
    re.I | re.M,
)
HTML_QUOTES = (
    "//blockquote",
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' gmail_quote ')]",
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' gmail_signature ')]",
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' yahoo_quoted ')]",
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' moz-cite-prefix ')]",
    "//div[@id='divRplyFwdMsg']",
    "//div[@id='mail-editor-reference-message-container']",
    "//div[@id='x_divRplyFwdMsg']",
)
HTML_QUOTE_STARTS = ("//div[@id='appendonsend']", "//hr[@id='stopSpelling']", "//div[@id='x_appendonsend']")


@dataclass(frozen=True)
class ReplyText:
    text: str
    certain: bool
    why: str = ""


def html_to_text(html: str, *, drop_quotes: bool = True) -> str:
    """HTML mail as text; with `drop_quotes`, the quoting clients wrap around earlier mail removed."""
    if not html.strip():
        return ""
    try:
        tree = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return get_text(html)
    if drop_quotes:
        for path in HTML_QUOTE_STARTS:  # Outlook web: everything after this marker is the quoted mail
            for marker in tree.xpath(path):
                for later in list(marker.itersiblings()):
                    later.drop_tree()
                marker.drop_tree()
        for path in HTML_QUOTES:
            for element in tree.xpath(path):
                if element.getparent() is not None:
                    element.drop_tree()
    return get_text(lxml.html.tostring(tree, encoding="unicode"))


def split_reply(text: str) -> ReplyText:
    """The creator's own words in a plain-text reply, and whether the split can be trusted."""
    text = (text or "").replace("\r\n", "\n")
    if not text.strip():
        return ReplyText("", False, "the email has no text")
    replies = EmailReplyParser(languages=LANGUAGES).read(text).replies
    if not replies:
        return ReplyText("", False, "the email has no text")
    first = replies[0]
    if first.headers:
        # Nothing above the first reply header: the creator wrote below or between the quoted lines,
        # or not at all.
        own = [line for line in (first.body or "").splitlines() if not QUOTED_LINE.match(line)]
        has_quotes = any(QUOTED_LINE.match(line) for line in (first.body or "").splitlines())
        words = "\n".join(own).strip() if has_quotes else ""
    else:
        words = "\n".join(line for line in (first.body or "").splitlines() if not QUOTED_LINE.match(line)).strip()
    if not words:
        return ReplyText("", False, "no words of the creator's outside the quoted text")
    left = LEFT_HEADER.search(words)
    if left:
        # A reply header the library missed: what is above it is the creator's only if nothing but
        # quoted lines follows it in the original (checked on the original, since ">" lines were dropped).
        above = words[: left.start()].strip()
        after = text[text.find(left.group(0)) + len(left.group(0)) :]
        if above and all(not line.strip() or QUOTED_LINE.match(line) for line in after.splitlines()):
            return ReplyText(above, True)
        return ReplyText(above or words, False, "a quoted message's header was left in the reply")
    return ReplyText(words, True)
