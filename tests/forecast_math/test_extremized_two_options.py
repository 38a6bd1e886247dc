"""Issue 16: a two-option multiple-choice question's extremized crowd follows scoring.md's
multiple-choice rule normalise(exp(a * mean ln p_k)) with the submitted second probabilities,
not the binary formula with p2 = 1 - p1; for a binary question both rules agree."""

from __future__ import annotations

import math

import numpy as np
import pytest

from forecast_math import SQRT3, aggregate


def _rule(rows: list[list[float]], a: float = SQRT3) -> list[float]:
    logs = [a * sum(math.log(r[j]) for r in rows) / len(rows) for j in range(len(rows[0]))]
    ex = [math.exp(v) for v in logs]
    return [e / sum(ex) for e in ex]


def test_two_options_use_their_own_second_probability():
    rows = [[0.3, 0.7000009], [0.6, 0.3999995], [0.25, 0.7500008]]  # sums within the 1e-6 tolerance
    got = aggregate(np.array(rows), None, "extremized_log_odds")
    assert got == pytest.approx(_rule(rows), abs=1e-15)
    binary = 1 / (1 + math.exp(-SQRT3 * sum(math.log(r[0] / (1 - r[0])) for r in rows) / len(rows)))
    assert abs(got[0] - binary) > 1e-8, "the old binary formula ignored the submitted p2"


def test_for_a_binary_question_the_rule_is_the_binary_formula():
    ps = [0.3, 0.6, 0.25, 0.9]
    got = aggregate(np.array([[p, 1 - p] for p in ps]), None, "extremized_log_odds")
    binary = 1 / (1 + math.exp(-SQRT3 * sum(math.log(p / (1 - p)) for p in ps) / len(ps)))
    assert got[0] == pytest.approx(binary, abs=1e-14) and got[1] == pytest.approx(1 - binary, abs=1e-14)
