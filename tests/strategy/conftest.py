"""Fixtures of the strategy tests: a strategic question over real questions, and forecasters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def crowd(make_user):
    """Three forecasters: enough for the crowd to be published (CROWD_MIN_FORECASTERS = 3)."""
    return [make_user(f"crowd-{i}") for i in range(3)]


@pytest.fixture
def indicators(db):
    """Two binary questions and one ordered multiple-choice question, open since T0."""
    from questions.services import question_create

    def make(title, **kw):
        fields = {"type": "binary", "open_time": T0, "close_time": T0 + timedelta(days=3650)}
        fields.update(kw)
        return question_create(title=title, **fields)

    return {
        "recognise": make("Will Russia recognise the Taliban government?"),
        "sanctions": make("Will the UN lift the Taliban sanctions?"),
        "exercises": make(
            "How many joint exercises will there be?",
            type="multiple_choice",
            options=["0", "1-2", "3+"],
            ordered=True,
        ),
    }


@pytest.fixture
def strategic(indicators):
    """A published strategic question: recognise (+1, weight 2) and sanctions (-1) under one
    driver, exercises (+1) under another."""
    from strategy.services import strategic_question_create

    return strategic_question_create(
        slug="sino-russian",
        title="Will Sino-Russian coordination in Afghanistan deepen?",
        pole_less="Less coordination",
        pole_more="More coordination",
        drivers=[
            {
                "title": "Diplomacy",
                "indicators": [
                    {"question": indicators["recognise"].pk, "direction": 1, "weight": 2, "rationale": "Recognition."},
                    {"question": indicators["sanctions"].pk, "direction": -1, "weight": 1},
                ],
            },
            {"title": "Security", "indicators": [{"question": indicators["exercises"].pk, "direction": 1}]},
        ],
    )
