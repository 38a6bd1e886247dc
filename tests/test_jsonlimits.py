"""config.jsonlimits.nesting_depth_check (issue 11 made it regex-based) against the plain
character scan it replaced, on random texts built from brackets, quotes, escapes and filler."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.jsonlimits import JSONTooComplex, loads_limited, nesting_depth_check


def scanned_depth_exceeds(text: str, max_depth: int) -> bool:
    """The character-by-character scan: strings (with their escapes) skipped, any opener +1, any
    closer -1, refused as soon as the count passes max_depth."""
    depth = 0
    in_string = escaped = False
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
                return True
        elif ch in "]}":
            depth -= 1
    return False


def refused(text: str, max_depth: int) -> bool:
    try:
        nesting_depth_check(text, max_depth)
    except JSONTooComplex as e:
        assert str(e) == f"nested deeper than {max_depth} levels of arrays and objects"
        return True
    return False


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet='[]{}"\\ a,:\n', max_size=60), st.integers(min_value=0, max_value=6))
def test_depth_check_agrees_with_the_character_scan(text, max_depth):
    assert refused(text, max_depth) == scanned_depth_exceeds(text, max_depth)


@pytest.mark.parametrize(
    ("text", "too_deep"),
    [
        ("[" * 3 + "]" * 3, False),
        ("[" * 4 + "]" * 4, True),
        ('["[[[[[[", "\\"[[[[["]', False),  # brackets in strings, an escaped quote
        ('"\\\\"[[[[]]]]', True),  # an escaped backslash ends the string before the brackets
        ('"unterminated [[[[[[', False),
        ("]]]][[[[[[[", False),  # closers first: the count goes below zero, as the scan's did
        ("", False),
    ],
)
def test_depth_check_examples(text, too_deep):
    assert refused(text, 3) is too_deep
    assert scanned_depth_exceeds(text, 3) is too_deep


def test_loads_limited_still_parses_what_it_checks():
    doc = {"a": [{"b": "[[[{"}], "c": None}
    assert loads_limited(json.dumps(doc), max_depth=3) == doc
    with pytest.raises(JSONTooComplex):
        loads_limited(json.dumps(doc), max_depth=2)
