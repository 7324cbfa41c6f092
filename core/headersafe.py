"""Text that ends up in a mail header stays on one line.

A creator's name, a sender's From name and a template's subject (which can quote the creator's name)
reach email headers. A CR or LF in them would either let the text add headers of its own (header
injection: a Bcc to someone else) or, as Django refuses such headers, crash the send. So they are
refused where people enter them (`validate_one_line`) and, for what was stored before or comes
through a template, folded to spaces where the header is written (`one_line`).
"""

import re

from django.core.exceptions import ValidationError

# CR, LF and the other characters str.splitlines() breaks on.
LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]+")


def one_line(text: str) -> str:
    """The text with every line break replaced by one space."""
    return LINE_BREAKS.sub(" ", text or "")


def validate_one_line(value: str) -> None:
    """A validator for fields that reach mail headers."""
    if value and LINE_BREAKS.search(value):
        raise ValidationError("Use one line: no line breaks.", code="line_break")
