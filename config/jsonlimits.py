"""Limits on JSON input, the same for the API's parser and for every command that reads JSON:
a document nested deeper than MAX_DEPTH, or larger than its size limit, is refused with a clear
message before the decoder sees it (Python's decoder recurses, and would fail with a
RecursionError, on pathological nesting)."""

from __future__ import annotations

import json
from typing import Any

#: Arrays and objects inside each other; the deepest contract document (import_history) needs 5.
MAX_DEPTH = 64


class JSONTooComplex(ValueError):
    """The document breaks a limit; str() is the rule, ready for one line of output."""


def nesting_depth_check(text: str, max_depth: int = MAX_DEPTH) -> None:
    """Refuse `text` if its arrays and objects nest deeper than `max_depth`. One linear scan that
    skips string contents (escapes included), so brackets inside strings do not count."""
    depth = 0
    in_string = False
    escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > max_depth:
                raise JSONTooComplex(f"nested deeper than {max_depth} levels of arrays and objects")
        elif ch in "]}":
            depth -= 1


def loads_limited(text: str, *, max_bytes: int | None = None, max_depth: int = MAX_DEPTH) -> Any:
    """json.loads with the size and depth limits; raises JSONTooComplex or json.JSONDecodeError."""
    if max_bytes is not None and len(text) > max_bytes:
        raise JSONTooComplex(f"larger than {max_bytes} bytes")
    nesting_depth_check(text, max_depth)
    return json.loads(text)
