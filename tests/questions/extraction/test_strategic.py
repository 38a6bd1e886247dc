"""The article's strategic question (questions/extraction/strategic.py): its thesis, poles, drivers
and indicators, on the seed article and on texts of other styles written for these tests."""

from __future__ import annotations

import datetime
import json

import pytest

from questions.extraction import extract_candidates, load_document, propose_strategic, render_strategic
from questions.extraction.strategic import find_thesis

from .helpers import read_text_file, seed_bytes

# --- Texts written for these tests --------------------------------------------------------------

NEWS_ANALYSIS = """Can the Saudi-Iranian Détente Hold?

By Leila Marchetti
May 2, 2024

Two years after Beijing brokered their deal, Saudi Arabia and Iran still talk more than they trade. Embassies have reopened in Riyadh and Tehran, ambassadors have presented their credentials, and the foreign ministers now meet on the margins of regional summits. Yet the détente rests on a narrow base, and both capitals hedge their bets. Few diplomats expect it to hold without a steady flow of small gestures.

The war in Gaza tested it early. Riyadh condemned the strikes but kept its distance from Iran's allies, while Tehran courted Saudi opinion with offers of naval patrols in the Gulf that the kingdom politely ignored.

Economic ties remain thin. Saudi officials speak of investment only once American sanctions ease, and Iranian exporters still route their goods through Oman and the United Arab Emirates.

What to watch

- Whether Saudi Arabia and Iran jointly announce a maritime security agreement for the Gulf.
- Whether Iran resumes attacks on Saudi oil facilities through its allies in Yemen.
- Whether Saudi Arabia will refuse to renew its security cooperation agreement with Iran when it expires in 2026.
- Whether Saudi Arabia invests in an Iranian petrochemical project.
"""

THINK_TANK_BRIEF = """---
title: "Europe's Defence Industry After the Shock"
author: Tomas Lindqvist
date: 2024-09-30
---

# Europe's Defence Industry After the Shock

**Summary.** European governments have spent more on defence since February 2022 than in the previous decade, but most of the money has gone to national programmes and to purchases from American suppliers. The central question for the rest of the decade is whether European defence cooperation will deepen beyond emergency joint procurement.

## Background

Joint procurement of artillery shells through the European Defence Agency was a first. Yet national champions still compete for the same contracts, and ministries guard their own procurement budgets.

## Indicators to watch

- Whether France and Germany jointly fund the next phase of the Future Combat Air System.
- Whether the European Union adopts the European Defence Industry Programme with a budget above 10 billion euros.
- Whether Poland withdraws from the European Sky Shield Initiative.
- If Italy signs a bilateral tank deal with a US supplier instead of the joint European programme, that would signal a preference for national procurement.

## Conclusion

The money is there; the habits of cooperation are not yet.
"""

# Open questions and a watch list, but no thesis: no central question, no question headline,
# no trend in the title or the opening.
NO_THESIS = """Council Budget Vote Set for March

By Priya Raman
January 9, 2025

The city council will vote on the 2025 budget on March 12. The finance committee has yet to publish its amendments, and the mayor has proposed to sell the old tram depot to fund the new library.

What to watch

- Whether the council approves the sale of the tram depot.
- Whether the finance committee publishes its amendments before the vote.
"""


def _proposal(text: str, filename: str, as_of: datetime.date | None = None):
    doc = load_document(text.encode("utf-8"), filename=filename)
    cands = extract_candidates(doc, as_of=as_of)
    return doc, cands, propose_strategic(doc, cands)


def _by_title(cands, proposal, words: str):
    """The indicator (with its driver) whose candidate's draft title contains ``words``."""
    found = [(driver, ind) for driver, ind in proposal.indicators() if words in cands[ind.candidate].draft.title]
    assert len(found) == 1, (words, [cands[i.candidate].draft.title for _, i in proposal.indicators()])
    return found[0]


def _assert_well_formed(doc, cands, proposal) -> None:
    assert doc.text[proposal.start : proposal.end] == proposal.passage
    assert proposal.passage == proposal.passage.strip()
    seen = set()
    for driver in proposal.drivers:
        assert driver.title and driver.indicators
        for ind in driver.indicators:
            assert 0 <= ind.candidate < len(cands)
            assert ind.candidate not in seen, "a candidate is under one driver only"
            seen.add(ind.candidate)
            assert ind.direction in (1, -1)
            assert 0 < ind.weight <= 1
            assert ind.rationale and "\n" not in ind.rationale
    data = proposal.to_dict()
    assert set(data) == {
        "title", "description", "source", "start", "end", "passage", "pole_less", "pole_more", "drivers",
    }  # fmt: skip
    assert json.loads(json.dumps(data)) == data


# --- The seed article ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed():
    doc = load_document(seed_bytes(), filename="article.txt")
    cands = extract_candidates(doc, as_of=datetime.date(2021, 11, 16))
    return doc, cands, propose_strategic(doc, cands)


def _closing_indicator(doc, cands, opening: str) -> int:
    start = doc.text.index(opening)
    matches = [i for i, c in enumerate(cands) if c.start == start]
    assert len(matches) == 1, opening
    return matches[0]


def test_the_seed_article_asks_whether_sino_russian_coordination_will_deepen(seed):
    doc, cands, proposal = seed
    assert proposal is not None
    assert proposal.title == "Will Sino-Russian coordination in Afghanistan deepen?"
    assert proposal.source == "opening_question"
    assert proposal.passage == (
        "Does the fall of Kabul to the Taliban pave the way for greater Sino-Russian coordination in Afghanistan?"
    )
    assert (proposal.pole_less, proposal.pole_more) == ("Less coordination", "More coordination")
    assert proposal.passage in proposal.description
    _assert_well_formed(doc, cands, proposal)


def test_the_thesis_question_is_not_its_own_indicator(seed):
    doc, cands, proposal = seed
    linked = {ind.candidate for _, ind in proposal.indicators()}
    thesis = [i for i, c in enumerate(cands) if c.start == proposal.start]
    assert thesis and not set(thesis) & linked


def test_the_three_closing_indicators_are_linked_with_their_directions(seed):
    doc, cands, proposal = seed
    links = {ind.candidate: (driver, ind) for driver, ind in proposal.indicators()}
    jointly = _closing_indicator(doc, cands, "Third, it will be a promising development")
    tajikistan = _closing_indicator(doc, cands, "First, Russia’s reaction")
    india = _closing_indicator(doc, cands, "Next, Russian engagement with India")
    assert {jointly, tajikistan, india} <= set(links)

    # China and Russia jointly recognising the Taliban: YES means more coordination.
    driver, ind = links[jointly]
    assert ind.direction == 1
    assert driver == "Recognition of the Taliban"
    assert "jointly" in ind.rationale and "More coordination" in ind.rationale

    # Which Russia does first in Tajikistan: option A (with China) leans to more coordination,
    # option B (its own, excluding China) to less, so a later option means less: direction -1.
    driver, ind = links[tajikistan]
    assert cands[tajikistan].draft.type == "multiple_choice"
    assert ind.direction == -1
    assert "Tajikistan" in driver
    assert "a later option means “Less coordination”" in ind.rationale

    # Russia deepening its engagement with India, a partner competing with China: less coordination.
    driver, ind = links[india]
    assert ind.direction == -1
    assert driver == "Engagement with India"
    assert "India" in ind.rationale and "Less coordination" in ind.rationale

    # Three drivers, and the author's own signposts weigh most.
    assert len({links[i][0] for i in (jointly, tajikistan, india)}) == 3
    closing = min(links[i][1].weight for i in (jointly, tajikistan, india))
    others = [ind.weight for c, (_, ind) in links.items() if c not in (jointly, tajikistan, india)]
    assert closing > 0.9 and all(w < closing for w in others)
    assert [d.title for d in proposal.drivers[:3]] == [links[i][0] for i in (jointly, tajikistan, india)]


def test_other_seed_candidates_that_fit_are_linked_and_unrelated_ones_are_not(seed):
    doc, cands, proposal = seed
    _, unilateral = _by_title(cands, proposal, "intervene unilaterally")
    assert unilateral.direction == -1
    _, joint_force = _by_title(cands, proposal, "joint assistance force")
    assert joint_force.direction == 1
    driver, differences = _by_title(cands, proposal, "differences between Russia and China")
    assert differences.direction == -1 and driver == "Differences between China and Russia"
    linked_titles = [cands[i.candidate].draft.title for _, i in proposal.indicators()]
    # A step by one of the two alone, or by neither, says nothing about their coordination.
    assert not any("Commonwealth of Independent States" in t for t in linked_titles)
    assert not any(t.startswith("Will China integrate") for t in linked_titles)


def test_the_seed_proposal_is_deterministic_and_renders(seed):
    doc, cands, proposal = seed
    assert propose_strategic(doc, cands) == proposal
    table = render_strategic(proposal, cands)
    assert proposal.title in table and "Less coordination  <->  More coordination" in table


def test_without_its_opening_question_the_seed_falls_back_to_its_title():
    text = seed_bytes().decode("utf-8")
    text = text.replace(
        "But is that true? Does the fall of Kabul to the Taliban pave the way for greater Sino-Russian "
        "coordination in Afghanistan?",
        "",
    )
    doc, cands, proposal = _proposal(text, "article.txt", as_of=datetime.date(2021, 11, 16))
    assert proposal.source == "title"
    assert proposal.passage == "Prospects for Sino-Russian Coordination in Afghanistan"
    assert proposal.title == "Will Sino-Russian coordination in Afghanistan deepen?"
    _assert_well_formed(doc, cands, proposal)


# --- A news analysis whose headline is the question ---------------------------------------------


def test_a_headline_question_is_the_thesis_with_poles_from_its_verb():
    doc, cands, proposal = _proposal(NEWS_ANALYSIS, "analysis.txt")
    assert proposal.source == "headline_question"
    assert (proposal.start, proposal.passage) == (0, "Can the Saudi-Iranian Détente Hold?")
    assert proposal.title == "Will the Saudi-Iranian détente hold?"
    assert (proposal.pole_less, proposal.pole_more) == ("Détente breaks down", "Détente holds")
    _assert_well_formed(doc, cands, proposal)

    driver, joint = _by_title(cands, proposal, "jointly announce a maritime security agreement")
    assert joint.direction == 1 and driver == "Security cooperation in the Gulf"
    driver, attacks = _by_title(cands, proposal, "resume attacks")
    assert attacks.direction == -1 and driver == "Conflict in Yemen"
    driver, refusal = _by_title(cands, proposal, "refuse to renew")
    assert refusal.direction == -1 and "refuse" in refusal.rationale
    _, invest = _by_title(cands, proposal, "invest in an Iranian petrochemical project")
    assert invest.direction == 1
    assert len(proposal.indicators()) == 4


# --- A think-tank brief with "the central question is whether" ----------------------------------


def test_an_explicit_central_question_is_the_thesis():
    doc, cands, proposal = _proposal(THINK_TANK_BRIEF, "brief.md")
    assert proposal.source == "central_question"
    assert proposal.passage.startswith("The central question for the rest of the decade is whether")
    assert proposal.title == "Will European defence cooperation deepen beyond emergency joint procurement?"
    assert (proposal.pole_less, proposal.pole_more) == ("Less cooperation", "More cooperation")
    _assert_well_formed(doc, cands, proposal)

    _, fcas = _by_title(cands, proposal, "jointly fund")
    assert fcas.direction == 1
    _, edip = _by_title(cands, proposal, "adopt the European Defence Industry Programme")
    assert edip.direction == 1
    _, poland = _by_title(cands, proposal, "Poland withdraw")
    assert poland.direction == -1
    # A deal with an outside supplier instead of the joint programme: away from cooperation.
    _, italy = _by_title(cands, proposal, "Italy sign")
    assert italy.direction == -1 and "instead of" in italy.rationale


# --- No thesis ----------------------------------------------------------------------------------


def test_a_text_without_a_thesis_question_has_no_strategic_object():
    doc, cands, proposal = _proposal(NO_THESIS, "council.txt")
    assert cands, "it has open questions, just no thesis"
    assert proposal is None
    assert render_strategic(None, cands) == "No strategic question found."


@pytest.mark.parametrize("name", ["no_questions.txt", "news_analysis.txt", "think_tank_brief.md"])
def test_the_other_test_texts_have_no_thesis(name):
    doc = load_document(read_text_file(name), filename=name)
    assert propose_strategic(doc, extract_candidates(doc)) is None


# --- The ways of stating a thesis ---------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence, title, poles",
    [
        (
            "What matters is whether Turkish influence in Syria will grow after the election.",
            "Will Turkish influence in Syria grow after the election?",
            ("Less influence", "More influence"),
        ),
        (
            "The key question now is whether the ceasefire will hold.",
            "Will the ceasefire hold?",
            ("Ceasefire breaks down", "Ceasefire holds"),
        ),
        (
            "The real question is whether Brazil will join the OPEC+ production quotas.",
            "Will Brazil join the OPEC+ production quotas?",
            ("No", "Yes"),
        ),
    ],
)
def test_central_question_phrasings(sentence, title, poles):
    text = f"A Note on the Region\n\nThe week brought several meetings. {sentence} Officials said little else.\n"
    doc = load_document(text.encode(), filename="note.txt")
    thesis = find_thesis(doc)
    assert thesis is not None and thesis.source == "central_question"
    assert thesis.title == title
    assert (thesis.pole_less, thesis.pole_more) == poles
    assert doc.text[thesis.start : thesis.end] == sentence


def test_a_quoted_or_late_question_is_no_thesis():
    body = " ".join(["Trade talks continued through the spring without a breakthrough."] * 30)
    text = (
        "Notes From the Talks\n\n"
        "A minister asked reporters, “Will closer cooperation with Brussels help us?” Nobody answered.\n\n"
        f"{body}\n\nWill greater cooperation between Chile and Peru follow?\n"
    )
    doc = load_document(text.encode(), filename="notes.txt")
    assert find_thesis(doc) is None
