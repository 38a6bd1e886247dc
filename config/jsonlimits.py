"""Limits on JSON input, the same for the API's parser and for every command that reads JSON:
a document nested deeper than MAX_DEPTH, or larger than its size limit, is refused with a clear
message before the decoder sees it (Python's decoder recurses, and would fail with a
RecursionError, on pathological nesting)."""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

#: Arrays and objects inside each other; the deepest contract document (import_history) needs 5.
MAX_DEPTH = 64


class JSONTooComplex(ValueError):
    """The document breaks a limit; str() is the rule, ready for one line of output."""


#: A JSON string, escapes included; an unterminated one runs to the end of the text.
_STRING = re.compile(r'"[^"\\]*(?:\\[\s\S][^"\\]*)*(?:"|\\?\Z)')
#: Everything but brackets.
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def nesting_depth_check(text: str, max_depth: int = MAX_DEPTH) -> None:
    """Refuse `text` if its arrays and objects nest deeper than `max_depth`. String contents
    (escapes included) are cut out first, so brackets inside strings do not count; the depth is
    then the highest running count of the brackets left (an opener +1, a closer -1). Linear, and
    in C but for the brackets themselves."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0) > max_depth:
        raise JSONTooComplex(f"nested deeper than {max_depth} levels of arrays and objects")


def loads_limited(text: str, *, max_bytes: int | None = None, max_depth: int = MAX_DEPTH) -> Any:
    """json.loads with the size and depth limits; raises JSONTooComplex or json.JSONDecodeError."""
    if max_bytes is not None and len(text) > max_bytes:
        raise JSONTooComplex(f"larger than {max_bytes} bytes")
    nesting_depth_check(text, max_depth)
    return json.loads(text)
