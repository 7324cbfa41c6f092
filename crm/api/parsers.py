"""The API's JSON parser: DRF's, with the nesting depth bounded before parsing (core.jsonbounds), so a
deeply nested body is a 400, never a RecursionError's 500."""

import io

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from core import jsonbounds


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read() if stream is not None else b""
        try:
            jsonbounds.check_depth(body)
        except jsonbounds.TooDeep as error:
            raise ParseError(str(error)) from None
        return super().parse(io.BytesIO(body), media_type, parser_context)
