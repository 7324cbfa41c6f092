"""JSON from outside is checked for nesting depth before it is parsed.

`json.loads` recurses once per nesting level: a body of 100,000 `[` raises RecursionError (a 500,
not a ValueError), and even a depth Python survives makes every later walk over the document deep
and slow. No payload we accept nests beyond a handful of levels, so a body nested deeper than
MAX_DEPTH is refused with a 400 before it is parsed. The scan is linear and needs no recursion.
"""

import json
import re

MAX_DEPTH = 32

_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


class TooDeep(ValueError):
    """The document nests deeper than allowed."""


def nesting_depth(body: bytes | str) -> int:
    """The deepest level of [ and { outside strings (0 for a scalar)."""
    if isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub(b"", body)):
        if bracket in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def check_depth(body: bytes | str, limit: int = MAX_DEPTH) -> None:
    if nesting_depth(body) > limit:
        raise TooDeep(f"The JSON document nests deeper than {limit} levels.")


def loads(body: bytes | str, limit: int = MAX_DEPTH):
    """json.loads with the depth checked first; every failure is a ValueError."""
    check_depth(body, limit)
    try:
        return json.loads(body)
    except RecursionError:  # unreachable under the limit; kept so no input can turn into a 500
        raise TooDeep("The JSON document nests too deeply.") from None
