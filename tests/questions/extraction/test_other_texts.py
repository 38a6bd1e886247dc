"""Texts in other styles, written for these tests, so that the extractor is
not tuned to one article."""

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from questions.extraction import extract_candidates, load_document, render_table

from .helpers import TEXTS, assert_offsets_exact, read_text_file

ALL_TEXTS = sorted(p.name for p in TEXTS.iterdir() if p.is_file())


def _extract(name: str, **kwargs):
    doc = load_document(read_text_file(name), filename=name)
    return doc, extract_candidates(doc, **kwargs)


@pytest.mark.parametrize("name", ALL_TEXTS)
def test_offsets_slice_exactly_the_passage(name):
    doc, cands = _extract(name)
    assert_offsets_exact(doc, cands)


@pytest.mark.parametrize("name", ALL_TEXTS)
def test_two_runs_give_the_same_candidates(name):
    _, first = _extract(name)
    _, second = _extract(name)
    assert first == second
    assert first or name == "no_questions.txt", "an empty result would compare equal whatever happened"


def test_text_without_open_questions_yields_nothing():
    doc, cands = _extract("no_questions.txt")
    assert cands == []
    assert render_table(cands) == "No candidate questions found."


def test_news_analysis_finds_its_question_proposal_and_alternatives():
    doc, cands = _extract("news_analysis.txt")
    by_title = {c.draft.title: c for c in cands}
    question = by_title[
        "Will the authority finally approve the deep-water terminal that shipping lines have demanded since 2019 by 2028-03-04?"
    ]
    assert question.kind == "explicit_question"
    assert "Will a regional port fund to pay for the dredging work be created by 2028-03-04?" in by_title
    choice = [c for c in cands if c.draft.type == "multiple_choice"]
    assert len(choice) == 1
    assert choice[0].kind == "open_issue"
    assert choice[0].draft.options == [
        "Co-finance the terminal",
        "Leave the city to borrow on its own",
        "Other / neither",
    ]
    assert choice[0].passage.startswith("It remains to be seen whether")
    conditional = [c for c in cands if c.kind == "conditional"]
    assert conditional and "sign a concession with a foreign operator" in conditional[0].draft.title
    # The closing sentence of plain fact is not a candidate.
    assert not any("fourth in six years" in c.passage for c in cands)


def test_think_tank_watch_list_items_rank_first_and_slice_without_the_bullet():
    doc, cands = _extract("think_tank_brief.md")
    watch = [c for c in cands if c.section == "What to watch"]
    assert len(watch) == 4
    assert cands[: len(watch)] == watch
    for c in watch:
        assert c.kind == "indicator"
        assert not c.passage.startswith("- ")
        line_start = doc.text.rfind("\n", 0, c.start) + 1
        assert doc.text[line_start : c.start] == "- "
    titles = [c.draft.title for c in watch]
    assert (
        "Will Bolivia's legislature ratify the agreements with the Chinese consortium before the 2025 election by 2027-06-12?"
        in titles
    )
    codelco = next(c for c in watch if "Codelco" in c.passage)
    assert codelco.draft.type == "multiple_choice"
    assert codelco.draft.options[:2] == [
        "Conclude a partnership with SQM",
        "Conclude a partnership with a foreign partner instead",
    ]
    unclear = next(c for c in cands if c.section == "Risks")
    assert unclear.kind == "open_issue" and "courts order extraction" in unclear.draft.title


def test_html_brief_offsets_refer_to_the_converted_text():
    doc, cands = _extract("sanctions_brief.html")
    assert_offsets_exact(doc, cands)
    watch = [c for c in cands if c.section == "What to watch"]
    assert len(watch) == 2 and cands[:2] == watch
    assert watch[0].passage.startswith("Whether the three countries sign a drought protocol")
    mediator = next(c for c in watch if "African Union" in c.passage)
    assert mediator.draft.title == "Will the African Union appoint a mediator by 2027-09-18?"
    question = next(c for c in cands if c.kind == "explicit_question")
    assert question.passage == "Can the three governments agree on a drought protocol before the next rainy season?"
    assert any(c.kind == "proposal" and "data-sharing centre" in c.draft.title for c in cands)


def test_horizon_as_of_and_limit():
    doc = load_document(b"Report\n\nIt remains to be seen whether the council will approve the budget.")
    [cand] = extract_candidates(doc, as_of=datetime.date(2022, 1, 31), horizon_days=30)
    assert cand.draft.close_time == "2022-03-02T00:00:00Z"
    assert cand.draft.title == "Will the council approve the budget by 2022-03-02?"
    dated = load_document(b"Report\nMay 5, 2020\n\nIt remains to be seen whether the council will approve the budget.")
    [cand] = extract_candidates(dated, as_of=datetime.date(2022, 1, 31), horizon_days=10)
    assert cand.draft.close_time == "2020-05-15T00:00:00Z"  # the article's own date wins over as_of
    _, cands = _extract("think_tank_brief.md", limit=2)
    assert len(cands) == 2
    with pytest.raises(ValueError):
        extract_candidates(doc, horizon_days=0)


def test_either_or_sets_out_a_multiple_choice():
    doc = load_document(b"Outlook\n\nIt is unclear whether the union will accept the offer or call a strike.")
    [cand] = extract_candidates(doc, as_of=datetime.date(2024, 1, 1))
    assert cand.draft.type == "multiple_choice"
    assert cand.draft.options == ["Accept the offer", "Call a strike", "Other / neither"]


_WORDS = st.sampled_from(
    [
        "the",
        "council",
        "will",
        "if",
        "it",
        "remains",
        "unclear",
        "whether",
        "Russia",
        "proposed",
        "creation",
        "of",
        "a",
        "fund",
        "?",
        ".",
        ",",
        "prospect",
        "is",
        "unlikely",
        "to",
        "vote",
        "“",
        "”",
        "What",
        "to",
        "watch\n\n",
        "-",
        "First,",
        "Which",
        "or",
        "either",
        "\n",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_WORDS, min_size=1, max_size=120))
def test_any_text_gives_exact_offsets(words):
    raw = " ".join(words)
    if not raw.strip():
        return
    doc = load_document(raw.encode("utf-8"))
    assert_offsets_exact(doc, extract_candidates(doc, as_of=datetime.date(2024, 1, 1)))
