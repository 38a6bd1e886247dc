"""Numeric and date drafts (issue 15): a passage that names a quantity or a date to watch is drafted
as a numeric or date question with a range; a passage that asks yes/no keeps its binary draft."""

from __future__ import annotations

import datetime
import json

import pytest
from django.core.management import call_command

from questions.extraction import (
    extract_candidates,
    lint_candidate,
    lint_question,
    load_document,
    propose_strategic,
    render_table,
)
from questions.extraction.figures import nice_ceil, nice_floor, parse_figures

from .helpers import TEXTS, assert_offsets_exact, read_text_file, seed_bytes

CONTINUOUS_KEYS = {"title", "type", "options", "resolution_criteria", "close_time"} | {
    "lower",
    "upper",
    "open_lower",
    "open_upper",
    "unit",
}


def _one(text: str, as_of=datetime.date(2024, 1, 1)):
    """The single candidate of a one-sentence report."""
    doc = load_document(f"Report\n\n{text}".encode())
    cands = extract_candidates(doc, as_of=as_of)
    assert len(cands) == 1, [c.draft.title for c in cands]
    return cands[0]


# --- The figure parser ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, value, currency, percent, noun",
    [
        ("trade reached $146 billion", 146e9, "USD", False, ""),
        ("a loan of US$2.5bn", 2.5e9, "USD", False, ""),
        ("some €3bn in aid", 3e9, "EUR", False, "aid"),
        ("1 trillion yuan", 1e12, "CNY", False, ""),
        ("$31 million", 31e6, "USD", False, ""),
        ("1.2 million refugees", 1.2e6, "", False, "refugees"),
        ("3,000 troops", 3000, "", False, "troops"),
        ("about 7,000 Afghan refugees", 7000, "", False, "refugees"),
        ("half a million people", 5e5, "", False, "people"),
        ("five agreements", 5, "", False, "agreements"),
        ("40%", 40, "", True, ""),
        ("40 per cent of imports", 40, "", True, "imports"),
        ("2.7 million tonnes", 2.7e6, "", False, "tonnes"),
    ],
)
def test_figures_are_read_with_their_value_currency_and_noun(text, value, currency, percent, noun):
    [fig] = parse_figures(text)
    assert fig.value == pytest.approx(value)
    assert (fig.currency, fig.percent, fig.noun) == (currency, percent, noun)
    assert text[fig.start : fig.end] == fig.text


@pytest.mark.parametrize(
    "text",
    [
        "signed in July 2001 and in 2015",
        "on Sept. 16 and 16 June",
        "the 20th anniversary at the 201st base",
        "a 25-minute speech and a 2+2 dialogue",
        "one journalist said two decades ago",
    ],
)
def test_years_days_ordinals_and_compounds_are_not_figures(text):
    assert parse_figures(text) == []


def test_a_change_is_told_from_a_level_and_a_price_keeps_its_unit():
    level, change = parse_figures("reached $41 billion in 2023, up 32% on the year")
    assert not level.change and change.change
    [price] = parse_figures("could fall below $60 a barrel")
    assert price.per == "barrel"


def test_ranges_round_outwards_to_two_significant_digits():
    assert (nice_floor(20.5), nice_ceil(82)) == (20.0, 82.0)
    assert (nice_floor(3499), nice_ceil(292)) == (3400.0, 300.0)
    assert (nice_floor(0.0155), nice_ceil(0.062)) == (0.015, 0.062)


# --- A text full of quantities -------------------------------------------------------------------


@pytest.fixture(scope="module")
def corridor():
    doc = load_document(read_text_file("trade_corridor.md"), filename="trade_corridor.md")
    return doc, extract_candidates(doc)


def _by_title(cands, start: str):
    found = [c for c in cands if c.draft.title.startswith(start)]
    assert len(found) == 1, [c.draft.title for c in cands]
    return found[0]


def test_a_watch_list_of_quantities_becomes_numeric_questions_with_ranges_from_the_quoted_figures(corridor):
    doc, cands = corridor
    assert doc.published == datetime.date(2024, 3, 3)
    troops = _by_title(
        cands, "What will the number of Russian troops at the 201st base in Tajikistan be on 2028-03-03?"
    )
    share = _by_title(cands, "What will China's share of Kazakhstan's imports be in 2028?")
    freight = _by_title(cands, "What will the volume of rail freight on the Middle Corridor be in 2028?")
    for c in (troops, share, freight):
        assert c.kind == "indicator" and c.section == "What to watch"
        assert c.draft.type == "numeric" and c.draft.options == []
        assert c.draft.close_time == "2028-03-03T00:00:00Z"
    # "put at around 7,000": half to twice it, open at both ends
    d = troops.draft
    assert (d.lower, d.upper, d.open_lower, d.open_upper, d.unit) == (3500.0, 14000.0, True, True, "troops")
    assert "IISS Military Balance" in d.resolution_criteria and "7,000" in d.resolution_criteria
    assert (share.draft.lower, share.draft.upper, share.draft.unit) == (20.0, 80.0, "%")
    assert (freight.draft.lower, freight.draft.upper, freight.draft.unit) == (1_300_000.0, 5_400_000.0, "tonnes")
    # the yes/no item of the same list stays binary
    treaty = _by_title(cands, "Will Uzbekistan sign the free trade agreement")
    assert treaty.draft.type == "binary" and treaty.kind == "indicator"


def test_a_forecast_of_a_quoted_trade_figure_ranges_over_both_figures_and_ignores_the_growth_rate(corridor):
    _, cands = corridor
    trade = _by_title(cands, "What will the value of trade between China and Kazakhstan be in 2028?")
    d = trade.draft
    assert d.type == "numeric"
    # $41 billion (2023) and $50 billion (the target): 0.5 x 41 .. 2 x 50; "up 32%" is no level
    assert (d.lower, d.upper, d.unit, d.open_lower, d.open_upper) == (20.0, 100.0, "USD bn", True, True)
    assert "billions of US dollars" in d.resolution_criteria and "comtrade.un.org" in d.resolution_criteria
    assert "$41 billion, $50 billion" in d.resolution_criteria


def test_how_many_and_how_much_questions_keep_their_own_wording(corridor):
    _, cands = corridor
    refugees = _by_title(cands, "How many Afghan refugees will Tajikistan take in by 2028-03-03?")
    assert refugees.kind == "explicit_question"
    assert (refugees.draft.lower, refugees.draft.upper, refugees.draft.unit) == (3500.0, 14000.0, "people")
    assert "UNHCR" in refugees.draft.resolution_criteria
    # embedded "how much China will invest ..." is turned round; no figure quoted: the default range
    invest = _by_title(cands, "How much will China invest in Kazakhstan's copper smelters by 2028-03-03?")
    d = invest.draft
    assert (d.lower, d.upper, d.open_lower, d.open_upper, d.unit) == (0.0, 10.0, False, True, "USD bn")
    assert "default for investment" in d.resolution_criteria
    pledged = _by_title(cands, "How many troops will Russia send to its base in Tajikistan by 2028-03-03?")
    assert (pledged.draft.lower, pledged.draft.upper) == (750.0, 3000.0)  # "1,500 more troops"


def test_when_something_happens_becomes_a_date_question(corridor):
    _, cands = corridor
    consulate = _by_title(cands, "When will Russia reopen its consulate in Mazar-i-Sharif?")
    d = consulate.draft
    assert d.type == "date"
    # from the article's date to two years after the close; "not by then" resolves above
    assert (d.lower, d.upper) == ("2024-03-03T00:00:00Z", "2030-03-03T00:00:00Z")
    assert (d.open_lower, d.open_upper, d.unit) == (False, True, "")
    assert "the date on which Russia reopens its consulate in Mazar-i-Sharif" in d.resolution_criteria


def test_whether_questions_about_the_same_text_stay_binary(corridor):
    _, cands = corridor
    customs = _by_title(cands, "Will Kazakhstan join the Eurasian customs protocol")
    assert customs.draft.type == "binary"


def test_numeric_candidates_keep_exact_offsets_and_pass_the_linter(corridor):
    doc, cands = corridor
    assert_offsets_exact(doc, cands)
    assert sum(c.draft.type in ("numeric", "date") for c in cands) == 8
    for c in cands:
        assert lint_candidate(c) == [], (c.draft.title, lint_candidate(c))


# --- Phrasings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence, title, lower, upper, unit",
    [
        (
            "Bilateral trade between India and Russia could top $100 billion by 2030, officials say.",
            "What will the value of bilateral trade between India and Russia be in 2028?",
            50.0,
            200.0,
            "USD bn",
        ),
        (
            "The share of renewables in Poland's power mix is likely to exceed 30 per cent.",
            "What will the share of renewables in Poland's power mix be in 2028?",
            15.0,
            60.0,
            "%",
        ),
        (
            "The price of Brent crude could fall below $60 a barrel.",
            "What will the price of Brent crude be on 2028-01-01?",
            30.0,
            120.0,
            "USD per barrel",
        ),
        (
            "UNHCR expects the number of Sudanese refugees in Chad to reach 1.2 million by December.",
            "What will the number of Sudanese refugees in Chad be on 2028-01-01?",
            600_000.0,
            2_400_000.0,
            "people",
        ),
        (
            "Japan is expected to provide $500 million in aid to Ukraine.",
            "How much aid will Japan provide to Ukraine by 2028-01-01?",
            250.0,
            1000.0,
            "USD m",
        ),
        (
            "Beijing plans to sign five agreements with Astana.",
            "How many agreements will Beijing sign with Astana by 2028-01-01?",
            2.5,
            10.0,
            "agreements",
        ),
        (
            "Exports of Kazakh wheat to China are set to climb to 3 million tonnes.",
            "What will the volume of exports of Kazakh wheat to China be in 2028?",
            1_500_000.0,
            6_000_000.0,
            "tonnes",
        ),
        (
            "The key question is how many troops Washington will keep in Iraq.",
            "How many troops will Washington keep in Iraq on 2028-01-01?",
            0.0,
            10_000.0,
            "troops",
        ),
        (
            "Watch the number of visits by Chinese officials to Kabul.",
            "How many visits by Chinese officials to Kabul will there be from 2024-01-01 to 2028-01-01?",
            0.0,
            20.0,
            "visits",
        ),
    ],
)
def test_phrasings_of_a_quantity_to_watch(sentence, title, lower, upper, unit):
    c = _one(sentence)
    d = c.draft
    assert (d.type, d.title, d.lower, d.upper, d.unit) == ("numeric", title, lower, upper, unit)
    assert d.open_lower == (lower > 0)  # a quoted figure's range is open below; a default is closed at 0
    assert d.open_upper
    assert "according to" in d.resolution_criteria
    assert lint_candidate(c) == []


def test_a_percentage_range_is_closed_at_100():
    d = _one("What share of Germany's gas imports will come from Norway? Last year it was 60%.").draft
    assert (d.title, d.lower, d.upper, d.open_lower, d.open_upper) == (
        "What share of Germany's gas imports will come from Norway in 2028?",
        30.0,
        100.0,
        True,
        False,
    )


def test_a_question_about_a_named_year_closes_when_that_year_ends():
    d = _one("How many Chinese cars will Russia import in 2025? Last year it imported 900,000.").draft
    assert d.title == "How many Chinese cars will Russia import in 2025?"
    assert d.close_time == "2026-01-01T00:00:00Z"
    assert (d.lower, d.upper, d.unit) == (450_000.0, 1_800_000.0, "cars")
    assert "for calendar year 2025" in d.resolution_criteria


def test_a_rate_per_week_is_read_on_the_close_day():
    doc = load_document(
        b"Brief\n\n## What to watch\n\n- The number of direct flights between Moscow and Beijing, now 40 a week.\n"
    )
    [c] = extract_candidates(doc, as_of=datetime.date(2024, 1, 1))
    d = c.draft
    assert d.title == "What will the number of direct flights between Moscow and Beijing be on 2028-01-01?"
    assert (d.lower, d.upper, d.unit) == (20.0, 80.0, "flights per week")


@pytest.mark.parametrize(
    "sentence, title",
    [
        ("When will the Suez Canal reopen to container ships?", "When will the Suez Canal reopen to container ships?"),
        ("Nobody knows when the embassy in Damascus will reopen.", "When will the embassy in Damascus reopen?"),
    ],
)
def test_date_phrasings(sentence, title):
    d = _one(sentence).draft
    assert (d.type, d.title) == ("date", title)
    assert (d.lower, d.upper) == ("2024-01-01T00:00:00Z", "2030-01-01T00:00:00Z")


# --- What stays binary, and what is no question at all ------------------------------------------


@pytest.mark.parametrize(
    "sentence, title",
    [
        (
            "It remains to be seen whether trade between India and Russia will exceed $100 billion.",
            "Will trade between India and Russia exceed $100 billion by 2028-01-01?",
        ),
        (
            "Will the number of refugees in Poland exceed 2 million?",
            "Will the number of refugees in Poland exceed 2 million by 2028-01-01?",
        ),
        (
            "If trade between India and Russia keeps growing, it would show the partnership is real.",
            "Will trade between India and Russia keep growing by 2028-01-01?",
        ),
    ],
)
def test_a_yes_no_question_about_a_quantity_stays_binary(sentence, title):
    d = _one(sentence).draft
    assert (d.type, d.title) == ("binary", title)
    assert "lower" not in d.to_dict()


@pytest.mark.parametrize(
    "sentence",
    [
        "Trade between India and Russia reached $65 billion in 2023.",  # a fact, not a forecast
        "India spent $3 billion in aid over twenty years, including $90 million for the parliament building.",
        "When Xi announced he would not attend, Putin cancelled his trip.",  # "when" as a conjunction
        "How much influence will China gain in Central Asia?",  # not a measured quantity
        "It remains unclear how much longer the talks will last.",
        "The level of cooperation between the two will be worth watching.",
        "The number of dams will matter less than how they are run.",  # nobody named: unresolvable
    ],
)
def test_figures_and_question_words_alone_make_no_numeric_question(sentence):
    doc = load_document(f"Report\n\n{sentence}".encode())
    assert [c for c in extract_candidates(doc, as_of=datetime.date(2024, 1, 1)) if c.draft.is_continuous] == []


@pytest.mark.parametrize("name", ["news_analysis.txt", "think_tank_brief.md", "sanctions_brief.html"])
def test_texts_without_a_quantity_to_watch_draft_no_numeric_question(name):
    doc = load_document(read_text_file(name), filename=name)
    cands = extract_candidates(doc)
    assert cands and all(c.draft.type in ("binary", "multiple_choice") for c in cands)


def test_the_seed_article_names_no_quantity_to_watch_and_keeps_its_drafts():
    """The seed quotes figures ($3 billion in aid, $31 million) only as past facts, in passages that
    pose no question: its fourteen candidates stay thirteen binary and one multiple choice."""
    doc = load_document(seed_bytes(), filename="article.txt")
    cands = extract_candidates(doc, as_of=datetime.date(2021, 11, 16))
    types = [c.draft.type for c in cands]
    assert types.count("binary") == 13 and types.count("multiple_choice") == 1 and len(types) == 14
    for c in cands:
        assert set(c.draft.to_dict()) == {"title", "type", "options", "resolution_criteria", "close_time"}


# --- The linter and the command ------------------------------------------------------------------


def test_the_linter_takes_a_quantity_as_observable_but_not_a_vague_one():
    def codes(title: str, **kw) -> list[str]:
        return [f.code for f in lint_question(title, **kw)]

    criteria = "Resolves to the figure according to UNHCR's refugee data (data.unhcr.org)."
    assert "no_observable" not in codes("How many Afghan refugees will Tajikistan host on 2027-12-31?")
    assert "no_observable" not in codes("What will the value of trade between China and Russia be in 2027?")
    assert "no_observable" not in codes("What share of Kazakhstan's imports will come from China in 2027?")
    assert "no_observable" in codes("How much influence will China have in Kazakhstan in 2027?")
    assert "no_observable" in codes("What will China's role in Kazakhstan be in 2027?")
    # the other rules still apply to numeric titles
    assert codes("What will the number of refugees be?", resolution_criteria=criteria) == ["no_deadline", "no_actor"]


def test_extract_questions_json_carries_the_numeric_fields_in_the_draft(capsys):
    path = TEXTS / "trade_corridor.md"
    call_command("extract_questions", str(path), "--json")
    out = json.loads(capsys.readouterr().out)
    cands = out["candidates"] if isinstance(out, dict) else out
    text = path.read_text(encoding="utf-8")
    kinds = {c["draft"]["type"] for c in cands}
    assert kinds == {"binary", "numeric", "date"}
    for c in cands:
        assert set(c) == {"start", "end", "passage", "section", "kind", "score", "draft", "lint"}
        assert text[c["start"] : c["end"]] == c["passage"]
        d = c["draft"]
        if d["type"] == "numeric":
            assert set(d) == CONTINUOUS_KEYS
            assert isinstance(d["lower"], float) and isinstance(d["upper"], float) and d["lower"] < d["upper"]
            assert isinstance(d["open_lower"], bool) and isinstance(d["open_upper"], bool)
            assert d["unit"] and len(d["unit"]) <= 40
        elif d["type"] == "date":
            assert set(d) == CONTINUOUS_KEYS
            assert d["lower"] < d["close_time"] < d["upper"]
            assert d["lower"].endswith("T00:00:00Z") and d["upper"].endswith("T00:00:00Z")
        else:
            assert set(d) == CONTINUOUS_KEYS - {"lower", "upper", "open_lower", "open_upper", "unit"}
        assert c["lint"] == []


def test_the_table_shows_each_range(corridor):
    _, cands = corridor
    table = render_table(cands)
    assert "numeric range 20 to 100 USD bn, open below and above" in table
    assert "numeric range 0 to 10 USD bn, open above" in table
    assert "date range 2024-03-03 to 2030-03-03, open above" in table


def test_the_strategic_proposal_links_only_events_not_quantities(corridor):
    doc, cands = corridor
    proposal = propose_strategic(doc, cands)
    linked = [i.candidate for d in (proposal.drivers if proposal else ()) for i in d.indicators]
    assert all(cands[i].draft.type in ("binary", "multiple_choice") for i in linked)


def test_every_numeric_and_date_draft_is_a_valid_question(corridor):
    """What the admin approves as drafted passes the question rules (questions.services)."""
    from forecast_math import parse_instant
    from questions.services import question_validate

    _, cands = corridor
    opened = datetime.datetime(2024, 3, 3, tzinfo=datetime.UTC)
    for c in cands:
        d = c.draft.to_dict()
        if d["type"] not in ("numeric", "date"):
            continue
        question_validate(
            type=d["type"],
            title=d["title"],
            open_time=opened,
            close_time=parse_instant(d["close_time"]),
            range_lower=d["lower"],
            range_upper=d["upper"],
            open_lower=d["open_lower"],
            open_upper=d["open_upper"],
            unit=d["unit"],
        )
