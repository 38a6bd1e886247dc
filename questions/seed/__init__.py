"""The seed series: questions drawn from the 2021-11-16 article on Sino-Russian coordination in Afghanistan.

The data lives in ``sino_russian_afghanistan.json`` next to this module, in the ``import_history``
format of the contracts, extended with an ``article`` block and, per question, an ``indicator``
label, the fact-checking ``confidence`` and a ``source`` span into the article.

The article text itself is not shipped in the JSON. A question's source passage is given by
character offsets (Python ``str`` indices into the UTF-8 decoded text) plus the SHA-256 of that slice,
so the passage can be recovered, and checked, from any copy of the article.

Pure Python on purpose (no Django imports): management commands, the demo and tests all use it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

SEED_DIR = Path(__file__).resolve().parent
SEED_FILE = SEED_DIR / "sino_russian_afghanistan.json"
ARTICLE_ENV_VAR = "SIGNPOST_SEED_ARTICLE"

__all__ = [
    "ARTICLE_ENV_VAR",
    "SEED_DIR",
    "SEED_FILE",
    "find_article",
    "load_seed",
    "passage",
    "verify_article",
]


def load_seed(path: Path | str | None = None) -> dict[str, Any]:
    """Read and return the seed JSON (the bundled file unless ``path`` is given)."""
    with open(path or SEED_FILE, encoding="utf-8") as fh:
        return json.load(fh)


def find_article() -> Path | None:
    """Locate the article the seed was written from, or return None.

    Looks at ``$SIGNPOST_SEED_ARTICLE`` first, then at ``<repo>/../shared/seed/article.txt`` where
    ``<repo>`` is the directory holding ``manage.py``. An explicit environment variable naming a
    missing file gives None rather than falling back silently to another copy.
    """
    env = os.environ.get(ARTICLE_ENV_VAR)
    if env:
        candidate = Path(env).expanduser()
        return candidate if candidate.is_file() else None
    repo = Path(__file__).resolve().parents[2]
    candidate = repo.parent / "shared" / "seed" / "article.txt"
    return candidate if candidate.is_file() else None


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def passage(text: str, question: dict[str, Any]) -> str:
    """The article passage a seed question was drawn from."""
    source = question["source"]
    return text[source["start"] : source["end"]]


def verify_article(text: str, seed: dict[str, Any]) -> None:
    """Check that ``text`` is the article the seed refers to.

    ``text`` is the decoded article (``Path.read_text(encoding="utf-8")``). The whole-article hash is
    taken over its UTF-8 encoding, which equals the raw file bytes for a file that decodes cleanly.
    Raises ValueError naming the first mismatch: the article hash, then each question's span (bounds
    and passage hash).
    """
    expected = seed.get("article", {}).get("sha256")
    actual = _sha256(text)
    if expected != actual:
        raise ValueError(f"article.sha256: expected {expected}, got {actual} for the given text")
    for question in seed.get("questions", []):
        slug = question.get("slug", "?")
        source = question.get("source") or {}
        start, end = source.get("start"), source.get("end")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            raise ValueError(
                f"questions[{slug}].source: offsets {start}..{end} are not a span of the {len(text)}-character article"
            )
        got = _sha256(text[start:end])
        if got != source.get("passage_sha256"):
            raise ValueError(
                f"questions[{slug}].source.passage_sha256: expected {source.get('passage_sha256')}, "
                f"got {got} for characters {start}..{end}"
            )
