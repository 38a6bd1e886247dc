"""The seed article (kept outside the repository, in shared/seed/)."""

import datetime
import json

import pytest

from questions.extraction import extract_candidates, load_document, render_table

from .helpers import assert_offsets_exact, seed_bytes

TOP = 6


@pytest.fixture(scope="module")
def doc():
    return load_document(seed_bytes(), filename="article.txt")


@pytest.fixture(scope="module")
def cands(doc):
    return extract_candidates(doc, as_of=datetime.date(2021, 11, 16))


def _paragraph_starting(doc, words: str) -> tuple[int, int]:
    start = doc.text.index(words)
    assert start == 0 or doc.text[start - 1] == "\n"
    end = doc.text.find("\n", start)
    return start, (len(doc.text) if end == -1 else end)


def _find(cands, start, end):
    matches = [c for c in cands if c.start == start and c.end == end]
    assert matches, f"no candidate for {start}-{end}"
    return matches[0]


def test_metadata_from_the_head_and_the_author_bio(doc):
    assert doc.title == "Prospects for Sino-Russian Coordination in Afghanistan"
    assert doc.author == "Elizabeth Wishnick"
    assert doc.published is None  # the stored copy carries no date


@pytest.mark.parametrize("opening", ["First, Russia’s reaction", "Next, Russian engagement", "Third, it will be"])
def test_each_closing_indicator_is_a_top_candidate_slicing_its_whole_paragraph(doc, cands, opening):
    start, end = _paragraph_starting(doc, opening)
    top = cands[:TOP]
    cand = _find(top, start, end)
    assert cand.kind == "indicator"
    assert cand.section == "What to Look for Going Forward"
    assert doc.text[cand.start : cand.end] == cand.passage
    assert cand.score >= 0.85


def test_opening_explicit_question_is_a_top_candidate_slicing_exactly_the_question(doc, cands):
    start = doc.text.index("Does the fall of Kabul")
    end = doc.text.index("?", start) + 1
    cand = _find(cands[:TOP], start, end)
    assert cand.kind == "explicit_question"
    assert cand.passage.endswith("coordination in Afghanistan?")
    assert cand.draft.title.startswith("Will the fall of Kabul")


def test_watch_list_indicators_outrank_everything_else(cands):
    assert {c.kind for c in cands[:3]} == {"indicator"}
    assert all(c.section == "What to Look for Going Forward" for c in cands[:3])
    rest = [c.score for c in cands[3:]]
    assert min(c.score for c in cands[:3]) > max(rest)


def test_first_indicator_is_multiple_choice_between_with_and_without_china(doc, cands):
    start, end = _paragraph_starting(doc, "First, Russia’s reaction")
    draft = _find(cands, start, end).draft
    assert draft.type == "multiple_choice"
    assert len(draft.options) == 3 and draft.options[-1] == "Other / neither"
    with_china, without_china = draft.options[:2]
    assert "with China" in with_china and "Tajikistan" in with_china
    assert "excluding China" in without_china
    assert draft.title.startswith("Which") and "Russia" in draft.title and draft.title.endswith("?")


def test_joint_recognition_indicator_reads_as_a_binary_question(doc, cands):
    start, end = _paragraph_starting(doc, "Third, it will be")
    draft = _find(cands, start, end).draft
    assert draft.type == "binary" and draft.options == []
    assert draft.title == "Will China and Russia jointly recognize the Taliban by 2025-11-16?"
    assert draft.close_time == "2025-11-16T00:00:00Z"
    assert "2021-11-16" in draft.resolution_criteria


def test_passages_about_russian_recognition_are_merged_into_one(doc, cands):
    cautious = doc.text.index("is cautious about recognizing the Taliban")
    too_early = doc.text.index("too early to speak of recognition")
    holders = [c for c in cands if c.start <= cautious < c.end or c.start <= too_early < c.end]
    assert len(holders) == 1
    merged = holders[0]
    assert merged.draft.title.startswith("Will Russia recognize the Taliban")
    spans = [(merged.start, merged.end), *merged.related]
    assert any(s <= cautious < e for s, e in spans) and any(s <= too_early < e for s, e in spans)
    # Russia alone and Russia with China are different events: not merged.
    assert any("jointly recognize" in c.draft.title for c in cands)


def test_no_two_candidates_share_text_or_title(cands):
    spans = sorted((c.start, c.end) for c in cands)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))
    titles = [c.draft.title for c in cands]
    assert len(titles) == len(set(titles))


def test_other_open_questions_of_the_article_are_found(cands):
    titles = " | ".join(c.draft.title for c in cands)
    for words in (
        "joint assistance force",
        "buffer zone",
        "Bagram",
        "join the Shanghai Cooperation Organization",
        "remove sanctions on the Taliban",
    ):
        assert words in titles


def test_offsets_are_exact_and_output_matches_the_contract(doc, cands):
    assert_offsets_exact(doc, cands)
    payload = json.loads(json.dumps([c.to_dict() for c in cands]))
    for item in payload:
        assert set(item) == {"start", "end", "passage", "section", "kind", "score", "draft"}
        assert set(item["draft"]) == {"title", "type", "options", "resolution_criteria", "close_time"}
        assert item["kind"] in {"indicator", "explicit_question", "conditional", "open_issue", "proposal"}
        assert 0.0 <= item["score"] <= 1.0
        assert item["draft"]["title"].endswith("?")
    scores = [c.score for c in cands]
    assert scores == sorted(scores, reverse=True)


def test_extraction_is_deterministic(doc, cands):
    again = extract_candidates(load_document(seed_bytes()), as_of=datetime.date(2021, 11, 16))
    assert [c.to_dict(include_related=True) for c in again] == [c.to_dict(include_related=True) for c in cands]


def test_without_a_date_the_latest_date_in_the_text_is_used(doc):
    cands = extract_candidates(doc, limit=1)
    assert cands[0].draft.close_time == "2025-10-01T00:00:00Z"  # "early October 2021" + 1461 days


def test_table_lists_every_candidate(cands):
    table = render_table(cands)
    assert table.splitlines()[0].startswith("#")
    for c in cands:
        assert c.draft.title in table
