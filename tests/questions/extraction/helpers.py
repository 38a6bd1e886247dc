"""Shared helpers for the extractor tests."""

from __future__ import annotations

from pathlib import Path

import pytest

TEXTS = Path(__file__).resolve().parent / "texts"
# The seed article lives outside the repository, in shared/ beside it.
SEED = Path(__file__).resolve().parents[3] / ".." / "shared" / "seed" / "article.txt"


def read_text_file(name: str) -> bytes:
    return (TEXTS / name).read_bytes()


def seed_bytes() -> bytes:
    if not SEED.is_file():
        pytest.skip(f"seed article not found at {SEED.resolve()} (shared/ must sit beside the repository)")
    return SEED.read_bytes()


def assert_offsets_exact(doc, cands) -> None:
    for c in cands:
        assert 0 <= c.start < c.end <= len(doc.text)
        assert doc.text[c.start : c.end] == c.passage
        assert c.passage == c.passage.strip()
        for start, end in c.related:
            assert 0 <= start < end <= len(doc.text)
