"""Approving a numeric or date draft keeps the range the extractor proposed, unless edited."""

from __future__ import annotations

from pathlib import Path

import pytest

from accounts.services import user_create
from questions.articles import article_ingest, candidate_approve
from questions.models import Candidate

TEXT = Path(__file__).resolve().parent / "extraction" / "texts" / "trade_corridor.md"


@pytest.fixture
def candidates(db) -> list[Candidate]:
    article, _ = article_ingest(data=TEXT.read_bytes(), filename="trade_corridor.md")
    return list(article.candidates.order_by("rank"))


def _first(candidates: list[Candidate], qtype: str) -> Candidate:
    found = [c for c in candidates if c.draft.get("type") == qtype]
    assert found, f"the test text drafts a {qtype} question"
    return found[0]


def test_a_numeric_draft_becomes_a_numeric_question_with_its_range(candidates) -> None:
    c = _first(candidates, "numeric")
    admin = user_create(username="editor", is_staff=True)
    q = candidate_approve(candidate=c, by=admin)
    assert q.type == "numeric"
    assert (q.range_lower, q.range_upper) == (float(c.draft["lower"]), float(c.draft["upper"]))
    assert (q.open_lower, q.open_upper, q.unit) == (c.draft["open_lower"], c.draft["open_upper"], c.draft["unit"])
    assert q.source_passage == c.passage


def test_edits_override_the_drafted_range(candidates) -> None:
    c = _first(candidates, "numeric")
    admin = user_create(username="editor", is_staff=True)
    q = candidate_approve(
        candidate=c, by=admin, edits={"lower": 5, "upper": 50, "open_lower": False, "open_upper": True, "unit": "kt"}
    )
    assert (q.range_lower, q.range_upper, q.open_lower, q.open_upper, q.unit) == (5.0, 50.0, False, True, "kt")


def test_a_date_draft_becomes_a_date_question(candidates) -> None:
    c = _first(candidates, "date")
    admin = user_create(username="editor", is_staff=True)
    q = candidate_approve(candidate=c, by=admin)
    assert q.type == "date" and q.range_lower < q.range_upper
