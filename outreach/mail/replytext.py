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
    r"Il .{4,200} ha scritto:|Op .{4,200} geschreven:|Em .{4,200} escreveu:|"
    r"-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original|Messaggio originale|"
    r"Original message|Forwarded message|Weitergeleitete Nachricht|Message transféré|Mensaje reenviado)\s*-{2,}|"
    r"_{10,}|(From|Von|De|Da|Van|Från|Fra|Od): .+)\s*$",
    re.I | re.M,
)
# Lines a mail client adds under what the person wrote.
CLIENT_TAGLINE = re.compile(
    r"^\s*(Sent from my \w[\w ]{0,30}|Sent with Proton Mail.*|Get Outlook for \w+.*|Sent from Yahoo Mail.*|"
    r"Sent from Mail for Windows.*|Von meinem \w+ gesendet|Envoyé de mon \w+|Enviado desde mi \w+)\s*$",
    re.I,
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
    """The creator's own words in a plain-text reply, and whether the split can be trusted.

    The first reply header (mail-parser-reply's, else one of LEFT_HEADER's) divides the mail: above
    it, the creator's words without their signature; below it, when the quoted mail is ">"-quoted,
    the lines that are not quoted are the creator's too (answers between or below the quote); when
    it is not (Outlook, forwards), everything below is the earlier mail."""
    text = (text or "").replace("\r\n", "\n")
    if not text.strip():
        return ReplyText("", False, "the email has no text")
    header = _first_header(text)
    if header is None:
        words = _unquoted(_without_signature(text))
    else:
        start, end = header
        above = _unquoted(_without_signature(text[:start])) if text[:start].strip() else ""
        below = text[end:].splitlines()
        first = next((line for line in below if line.strip()), "")
        own_below = _unquoted("\n".join(below)) if QUOTED_LINE.match(first) else ""
        if own_below:
            own_below = _unquoted(_without_signature(own_below)) or own_below
        words = "\n\n".join(part for part in (above, own_below) if part)
    if not words:
        return ReplyText("", False, "no words of the creator's outside the quoted text")
    if LEFT_HEADER.search(words):
        return ReplyText(words, False, "a quoted message's header was left in the reply")
    return ReplyText(words, True)


def _first_header(text: str) -> tuple[int, int] | None:
    """(start, end) of the first reply or forward header, found by the library or by LEFT_HEADER."""
    found = []
    for reply in EmailReplyParser(languages=LANGUAGES).read(text).replies:
        if reply.headers:
            first_line = next((line for line in reply.headers.splitlines() if line.strip()), "")
            at = text.find(first_line.strip()) if first_line else -1
            if at >= 0:
                block = reply.headers.strip()
                whole = text.find(block)
                found.append((whole, whole + len(block)) if whole >= 0 else (at, at + len(first_line.strip())))
            break
    for match in LEFT_HEADER.finditer(text):
        line_start = text.rfind("\n", 0, match.start()) + 1
        if not QUOTED_LINE.match(text[line_start : match.start() + 1]):
            found.append((match.start(), match.end()))
            break
    if not found:
        return None
    start, end = min(found)
    line_start = text.rfind("\n", 0, start) + 1
    return line_start, end


def _without_signature(text: str) -> str:
    replies = EmailReplyParser(languages=LANGUAGES).read(text).replies
    if not replies or replies[0].headers:
        return text
    return replies[0].body or ""


def _unquoted(text: str) -> str:
    lines = [line for line in text.splitlines() if not QUOTED_LINE.match(line)]
    return "\n".join(line for line in lines if not CLIENT_TAGLINE.match(line)).strip()
