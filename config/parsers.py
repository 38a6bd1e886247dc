"""The API's JSON parser, with the limits of config/jsonlimits.py: a body nested too deeply is a
400 naming the rule, never a RecursionError. (Its size is limited by Django's
DATA_UPLOAD_MAX_MEMORY_SIZE, refused here with a 400 too.)"""

from __future__ import annotations

import codecs

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from .jsonlimits import JSONTooComplex, loads_limited


class LimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
        except RequestDataTooBig as exc:
            raise ParseError(
                f"the body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes", code="too_large"
            ) from exc
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - the body is not {encoding} text") from exc
        try:
            return loads_limited(text)
        except JSONTooComplex as exc:
            raise ParseError(f"JSON parse error - the body is {exc}") from exc
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
