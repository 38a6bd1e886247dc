"""The seed series JSON: complete, consistent with the contracts, and anchored in the article."""

from __future__ import annotations

import copy
import hashlib
import re
from datetime import datetime
from pathlib import Path

import pytest

from questions.seed import SEED_DIR, find_article, load_seed, passage, verify_article

SERIES = "sino-russian-afghanistan"
CONFIDENCES = {"High", "Medium-High", "Medium", "Low-Medium", "Low"}
RESOLVABLE = {"High", "Medium-High"}
OPEN = "2021-11-16T00:00:00Z"
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
REQUIRED = {
    "slug": str,
    "series": str,
    "type": str,
    "title": str,
    "description": str,
    "resolution_criteria": str,
    "open_time": str,
    "close_time": str,
    "scoring_mode": str,
    "resolution_note": str,
    "confidence": str,
    "source": dict,
    "forecasts": list,
}
NULLABLE_STR = ("indicator", "known_at", "crowd_reveal_time", "resolution", "resolved_at")

# Every row of the fact-check's summary table must have a question (13 is split by year).
TABLE_ROWS = [
    "q1a", "q1b", "q1c", "q2a", "q2b", "q3", "q4", "q5a", "q5b", "q6", "q7", "q8", "q9",
    "q10a", "q10b", "q11", "q12", "q13", "q14a", "q14b", "q14c", "q15", "q16",
]  # fmt: skip

# A few words each question's passage must contain (case-insensitive).
EXPECTED_WORDS = {
    "q1-russia-response-tajik-base": ["deepen", "China in Tajikistan", "excluding China"],
    "q1a-joint-exercise-tajikistan": ["deepen its military cooperation with China"],
    "q1b-russia-csto-tajikistan-without-china": ["own bilateral military cooperation", "excluding China"],
    "q1c-china-tajik-base-acknowledged": ["unofficial base", "Shaymak"],
    "q2a-india-moscow-format": ["Moscow format", "India"],
    "q2b-russia-india-afghan-consultations": ["India was invited", "Russia organized"],
    "q3-joint-recognition-taliban": ["jointly recogni", "simultaneously"],
    "q4-russia-recognises-taliban": ["recognition of the Taliban", "Zhirnov"],
    "q5a-xi-accepts-taliban-credentials": ["Chinese officials", "engaging with the Taliban"],
    "q5b-china-recognises-taliban": ["Recognition", "divide Russia and China"],
    "q6-sco-admits-taliban": ["Khakimov", "joining the organization"],
    "q7-russia-delists-taliban": ["terrorist group"],
    "q8-china-bagram": ["Bagram", "intelligence-gathering facility"],
    "q9-joint-assistance-force": ["joint assistance force", "Wang Yi"],
    "q10a-csto-buffer-zone": ["buffer zone", "Collective Security Treaty Organization"],
    "q10b-csto-border-programme": ["buffer zone", "responsible for security"],
    "q11-us-basing-central-asia": ["basing access in Central Asia", "unacceptable"],
    "q12-sino-russian-trade-beyond-2021": ["Lukin", "peak"],
    "q12n-china-russia-trade-2024": ["Lukin", "peak"],
    "q13-hrc-rapporteur-renewal-": ["rapporteur", "human rights"],
    "q14a-india-presence-kabul": ["Kabul", "official talks with the Taliban"],
    "q14b-india-full-embassy-kabul": ["Kabul", "New Delhi"],
    "q14d-india-embassy-date": ["Kabul", "New Delhi"],
    "q14c-india-accepts-taliban-envoy": ["New Delhi refused", "Taliban"],
    "q15-second-state-recognises-taliban": ["recognition for the Taliban"],
    "q16-un-credentials-taliban": ["United Nations", "recognize the Taliban"],
}


def _t(value: str) -> datetime:
    assert ISO_Z.match(value), value
    return datetime.fromisoformat(value)


@pytest.fixture(scope="module")
def seed() -> dict:
    return load_seed()


@pytest.fixture(scope="module")
def questions(seed: dict) -> list[dict]:
    return seed["questions"]


@pytest.fixture(scope="module")
def article_text() -> str:
    path = find_article()
    if path is None:
        pytest.skip("shared/seed/article.txt not found (set SIGNPOST_SEED_ARTICLE to its path)")
    return path.read_text(encoding="utf-8")


def test_seed_file_lives_in_the_package() -> None:
    assert (SEED_DIR / "sino_russian_afghanistan.json").is_file()


def test_article_block_describes_the_article(seed: dict) -> None:
    article = seed["article"]
    assert re.fullmatch(r"[0-9a-f]{64}", article["sha256"])
    assert article["author"] == "Elizabeth Wishnick"
    assert article["published"] == "2021-11-16"
    assert article["title"]
    assert article["source_url"] is None or article["source_url"].startswith("http")


def test_one_series_with_continuous_scoring(seed: dict) -> None:
    assert [s["slug"] for s in seed["series"]] == [SERIES]
    series = seed["series"][0]
    assert series["title"] and series["description"]
    assert series["scoring_mode"] == "continuous"


def test_every_summary_table_row_has_a_question(questions: list[dict]) -> None:
    prefixes = {q["slug"].split("-")[0] for q in questions}
    assert set(TABLE_ROWS) <= prefixes
    assert len({q["slug"] for q in questions}) == len(questions), "slugs must be unique"


def test_every_question_has_the_required_fields_with_the_right_types(questions: list[dict]) -> None:
    for q in questions:
        for name, kind in REQUIRED.items():
            assert isinstance(q.get(name), kind), (q["slug"], name)
            if kind is str:
                assert q[name].strip(), (q["slug"], name)
        for name in NULLABLE_STR:
            assert name in q, (q["slug"], name)
            if name == "resolution" and q["type"] == "numeric":
                assert q[name] is None or isinstance(q[name], (int, float)), (q["slug"], name)
                continue
            assert q[name] is None or isinstance(q[name], str), (q["slug"], name)
        assert q["series"] == SERIES
        assert q["type"] in {"binary", "multiple_choice", "numeric", "date"}
        assert q["scoring_mode"] == "continuous"
        assert q["crowd_reveal_time"] is None
        assert q["confidence"] in CONFIDENCES
        assert q["forecasts"] == []
        assert q["title"].endswith("?")
        assert re.fullmatch(r"q\d+[a-z]?(-[a-z0-9]+)+", q["slug"])


def test_multiple_choice_questions_have_distinct_options(questions: list[dict]) -> None:
    mc = [q for q in questions if q["type"] == "multiple_choice"]
    assert mc, "indicator 1 is offered as one multiple-choice question"
    for q in mc:
        assert len(q["options"]) >= 2 and len(set(q["options"])) == len(q["options"])
        assert all(isinstance(o, str) and o for o in q["options"])
        assert q["ordered"] is False
    for q in questions:
        if q["type"] == "binary":
            assert "options" not in q


def test_dates_are_ordered_and_inside_the_window(questions: list[dict]) -> None:
    for q in questions:
        assert q["open_time"] == OPEN
        open_, close = _t(q["open_time"]), _t(q["close_time"])
        assert close > open_, q["slug"]
        if q["known_at"] is not None and q["type"] == "date":
            assert q["resolution"] == q["known_at"], "a date question closes early on the day it resolves"
        elif q["known_at"] is not None:
            assert q["resolution"] == "yes", "only an early YES closes a question early"
            assert open_ < _t(q["known_at"]) < close, q["slug"]
        if q["resolved_at"] is not None:
            end = _t(q["known_at"]) if q["known_at"] else close
            assert _t(q["resolved_at"]) > end, q["slug"]


def test_resolutions_only_where_the_facts_are_solid(questions: list[dict]) -> None:
    for q in questions:
        if q["confidence"] not in RESOLVABLE:
            assert q["resolution"] is None, q["slug"]
            assert q["resolved_at"] is None and q["known_at"] is None, q["slug"]
        if q["resolution"] is None:
            assert q["resolved_at"] is None, q["slug"]
        else:
            assert q["resolved_at"] is not None, q["slug"]
            if q["type"] in ("numeric", "date"):
                value = _t(q["resolution"]).timestamp() if q["type"] == "date" else q["resolution"]
                lower = _t(q["lower"]).timestamp() if q["type"] == "date" else q["lower"]
                upper = _t(q["upper"]).timestamp() if q["type"] == "date" else q["upper"]
                assert lower <= value <= upper, q["slug"]
                continue
            valid = q["options"] if q["type"] == "multiple_choice" else ["yes", "no"]
            assert q["resolution"] in valid, q["slug"]


def test_numeric_and_date_companions(questions: list[dict]) -> None:
    """The trade figure and the embassy date, asked as distributions beside their yes/no forms."""
    by_slug = {q["slug"]: q for q in questions}
    trade = by_slug["q12n-china-russia-trade-2024"]
    assert (trade["type"], trade["lower"], trade["upper"], trade["unit"]) == ("numeric", 100, 300, "USD bn")
    assert trade["open_lower"] and trade["open_upper"] and trade["resolution"] == 244.8
    embassy = by_slug["q14d-india-embassy-date"]
    assert embassy["type"] == "date" and not embassy["open_lower"] and embassy["open_upper"]
    assert embassy["resolution"] == by_slug["q14b-india-full-embassy-kabul"]["known_at"]
    assert trade["source"] == by_slug["q12-sino-russian-trade-beyond-2021"]["source"]


def test_key_resolutions(questions: list[dict]) -> None:
    by_slug = {q["slug"]: q for q in questions}
    expected = {
        "q1b-russia-csto-tajikistan-without-china": ("yes", "2021-12-08"),
        "q3-joint-recognition-taliban": ("no", None),
        "q4-russia-recognises-taliban": ("yes", "2025-07-03"),
        "q5a-xi-accepts-taliban-credentials": ("yes", "2024-01-30"),
        "q7-russia-delists-taliban": ("yes", "2025-04-17"),
        "q10b-csto-border-programme": ("yes", "2024-11-28"),
        "q14c-india-accepts-taliban-envoy": ("yes", "2026-01-12"),
        "q1a-joint-exercise-tajikistan": (None, None),
        "q15-second-state-recognises-taliban": (None, None),
    }
    for slug, (resolution, known) in expected.items():
        q = by_slug[slug]
        assert q["resolution"] == resolution, slug
        assert (q["known_at"] or "")[:10] == (known or ""), slug


def test_no_article_text_is_embedded(questions: list[dict]) -> None:
    for q in questions:
        assert set(q["source"]) == {"start", "end", "passage_sha256"}
        assert isinstance(q["source"]["start"], int) and isinstance(q["source"]["end"], int)
        assert 0 <= q["source"]["start"] < q["source"]["end"]
        assert re.fullmatch(r"[0-9a-f]{64}", q["source"]["passage_sha256"])


def test_article_hash_matches_the_raw_bytes(seed: dict, article_text: str) -> None:
    raw = find_article().read_bytes()  # type: ignore[union-attr]
    assert hashlib.sha256(raw).hexdigest() == seed["article"]["sha256"]


def test_verify_article_accepts_the_article(seed: dict, article_text: str) -> None:
    assert verify_article(article_text, seed) is None
    # It checked every passage, not only the whole-article hash: a wrong passage hash is caught.
    wrong = copy.deepcopy(seed)
    wrong["questions"][-1]["source"]["passage_sha256"] = "0" * 64
    with pytest.raises(ValueError, match=r"source\.passage_sha256"):
        verify_article(article_text, wrong)


def test_verify_article_rejects_an_edited_article(seed: dict, article_text: str) -> None:
    with pytest.raises(ValueError, match="article.sha256"):
        verify_article(article_text.replace("Taliban", "taliban", 1), seed)


def test_verify_article_rejects_a_shifted_passage(seed: dict, article_text: str) -> None:
    tampered = {**seed, "questions": [dict(q) for q in seed["questions"]]}
    first = tampered["questions"][0]
    first["source"] = {**first["source"], "start": first["source"]["start"] + 1}
    with pytest.raises(ValueError, match=first["slug"]):
        verify_article(article_text, tampered)


def test_passages_are_short_and_contain_the_expected_words(questions: list[dict], article_text: str) -> None:
    for q in questions:
        text = passage(article_text, q)
        assert 20 <= len(text) <= 700, q["slug"]
        assert text[0].isupper(), (q["slug"], "a passage starts at a sentence")
        assert text.rstrip()[-1] in '.?!\u201d"', (q["slug"], "a passage ends at a sentence end")
        key = next(k for k in EXPECTED_WORDS if q["slug"].startswith(k))
        for word in EXPECTED_WORDS[key]:
            assert word.lower() in text.lower(), (q["slug"], word)


def test_find_article_honours_the_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "article.txt"
    copy.write_text("x", encoding="utf-8")
    monkeypatch.setenv("SIGNPOST_SEED_ARTICLE", str(copy))
    assert find_article() == copy
    monkeypatch.setenv("SIGNPOST_SEED_ARTICLE", str(tmp_path / "missing.txt"))
    assert find_article() is None
