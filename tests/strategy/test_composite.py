"""forecast_math.composite on hand-computed cases: directions, weights, ordered options, resolved
and excluded indicators, the history as a step function, and "what moved it"."""

from __future__ import annotations

import pytest

from forecast_math import (
    CompositeState,
    Indicator,
    IndicatorHistory,
    composite,
    composite_at,
    composite_history,
    composite_moved,
    composite_state,
    crowd_value,
    indicator_kind,
    outcome_value,
)


def binary(key, direction=1, weight=1.0):
    return Indicator(key=key, kind="binary", n_options=2, direction=direction, weight=weight)


def ordered(key, k, direction=1, weight=1.0):
    return Indicator(key=key, kind="ordered", n_options=k, direction=direction, weight=weight)


# --- One indicator's value -----------------------------------------------------------------------


def test_binary_value_is_two_p_minus_one_times_the_direction():
    assert crowd_value(binary("a"), [0.7, 0.3]) == pytest.approx(0.4)
    assert crowd_value(binary("a", direction=-1), [0.7, 0.3]) == pytest.approx(-0.4)
    assert crowd_value(binary("a"), [0.5, 0.5]) == pytest.approx(0.0)


def test_ordered_value_is_the_expected_index_on_the_axis():
    # K = 3, E[index] = 0*0.2 + 1*0.3 + 2*0.5 = 1.3 -> 2 * 1.3 / 2 - 1 = 0.3
    assert crowd_value(ordered("m", 3), [0.2, 0.3, 0.5]) == pytest.approx(0.3)
    # K = 4, E[index] = 0.2 + 0.6 + 1.2 = 2.0 -> 2 * 2 / 3 - 1 = 1/3; direction -1 flips it
    assert crowd_value(ordered("m", 4, direction=-1), [0.1, 0.2, 0.3, 0.4]) == pytest.approx(-1 / 3)
    # all mass on the lowest / highest option: the two ends
    assert crowd_value(ordered("m", 3), [1, 0, 0]) == pytest.approx(-1.0)
    assert crowd_value(ordered("m", 3), [0, 0, 1]) == pytest.approx(1.0)


def test_resolved_indicators_use_the_outcome():
    assert outcome_value(binary("a"), 0) == 1.0  # yes
    assert outcome_value(binary("a"), 1) == -1.0  # no
    assert outcome_value(binary("a", direction=-1), 0) == -1.0
    assert outcome_value(ordered("m", 3), 1) == pytest.approx(0.0)  # the middle of three
    assert outcome_value(ordered("m", 5), 3) == pytest.approx(0.5)  # 2 * 3 / 4 - 1
    with pytest.raises(ValueError):
        outcome_value(ordered("m", 3), 3)


def test_an_unordered_multiple_choice_question_is_no_indicator():
    assert indicator_kind("binary") == "binary"
    assert indicator_kind("multiple_choice", ordered=True) == "ordered"
    assert indicator_kind("multiple_choice", ordered=False) is None
    with pytest.raises(ValueError):
        Indicator(key="u", kind="unordered", n_options=3)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"direction": 0},
        {"direction": 2},
        {"direction": True},
        {"weight": 0},
        {"weight": -1.0},
        {"weight": float("inf")},
    ],
)
def test_bad_directions_and_weights_are_refused(kwargs):
    with pytest.raises(ValueError):
        Indicator(key="a", kind="binary", **kwargs)


def test_probability_vectors_of_the_wrong_length_are_refused():
    with pytest.raises(ValueError):
        crowd_value(ordered("m", 3), [0.5, 0.5])


# --- The composite -------------------------------------------------------------------------------


def test_the_composite_is_the_weighted_mean_of_the_signed_values():
    a, b = binary("a", weight=2), binary("b", direction=-1, weight=1)
    va = crowd_value(a, [0.8, 0.2])  # 0.6
    vb = crowd_value(b, [0.3, 0.7])  # -(2 * 0.3 - 1) = 0.4
    state = composite_state([a, b], {"a": va, "b": vb})
    assert state.composite == pytest.approx((2 * 0.6 + 1 * 0.4) / 3)  # 0.5333...
    assert state.contributions == pytest.approx({"a": 1.2 / 3, "b": 0.4 / 3})
    assert sum(state.contributions.values()) == pytest.approx(state.composite)


def test_indicators_without_a_value_are_left_out():
    a, b, c = binary("a"), binary("b", weight=3), ordered("c", 3)
    # b has no crowd yet (None), c is missing altogether: the mean is over a alone
    assert composite([a, b, c], {"a": 0.4, "b": None}) == pytest.approx(0.4)
    assert composite([a, b, c], {"a": 0.4, "b": -0.2, "c": 0.3}) == pytest.approx((0.4 - 0.6 + 0.3) / 5)
    empty = composite_state([a, b], {})
    assert empty.composite is None and empty.contributions == {}


def test_values_outside_the_axis_are_refused():
    with pytest.raises(ValueError):
        composite([binary("a")], {"a": 1.5})


# --- History and what moved it -------------------------------------------------------------------


def _histories():
    """a: binary, opens at 0, crowd 60% from 10, 90% from 20 (and 90% again at 25), resolved YES at 30.
    b: binary, direction -1, weight 3, opens at 5, crowd 20% from 8 but revealed only at 15."""
    a = IndicatorHistory(
        indicator=binary("a"),
        open_time=0,
        crowd=[(10, [0.6, 0.4]), (20, [0.9, 0.1]), (25, [0.9, 0.1])],
        resolved_time=30,
        outcome=0,
    )
    b = IndicatorHistory(
        indicator=binary("b", direction=-1, weight=3), open_time=5, crowd=[(8, [0.2, 0.8])], visible_from=15
    )
    return [a, b]


def test_history_is_a_step_function_from_the_first_open_time():
    points = composite_history(_histories())
    assert [t for t, _ in points] == [0, 10, 15, 20, 30]  # 25 changes nothing: no point
    got = [s.composite for _, s in points]
    # 0: no value yet; 10: a alone (0.2); 15: b revealed, value -(2*0.2-1) = 0.6 -> (0.2 + 3*0.6)/4;
    # 20: a at 0.8 -> (0.8 + 1.8)/4; 30: a resolved yes (1) -> (1 + 1.8)/4
    assert got[0] is None
    assert got[1:] == pytest.approx([0.2, 0.5, 0.65, 0.7])
    assert points[-1][1].values == pytest.approx({"a": 1.0, "b": 0.6})


def test_an_annulled_indicator_drops_out_from_its_annulment():
    a, b = _histories()
    c = IndicatorHistory(indicator=binary("c"), open_time=0, crowd=[(12, [0.1, 0.9])], resolved_time=22, outcome=None)
    points = composite_history([a, b, c])
    at = {t: s for t, s in points}
    assert "c" in at[20].values and "c" not in at[22].values
    assert at[22].composite == pytest.approx((0.8 + 1.8) / 4)


def test_composite_at_reads_the_step_in_effect():
    points = composite_history(_histories())
    assert composite_at(points, 12).composite == pytest.approx(0.2)
    assert composite_at(points, 15).composite == pytest.approx(0.5)
    assert composite_at(points, -1).composite is None
    assert composite_at(points, 1e9).composite == pytest.approx(0.7)


def test_what_moved_it_is_each_contribution_change_largest_first():
    points = composite_history(_histories())
    before, after = composite_at(points, 10), composite_at(points, 30)
    moves = composite_moved(before, after)
    assert [m.key for m in moves] == ["b", "a"]
    b, a = moves
    # b: 0 (no value at 10) -> 3 * 0.6 / 4 = 0.45; a: 0.2 (alone) -> 1 * 1 / 4 = 0.25
    assert b.change == pytest.approx(0.45) and b.value_before is None and b.value_after == pytest.approx(0.6)
    assert a.change == pytest.approx(0.05) and a.contribution_before == pytest.approx(0.2)
    assert sum(m.change for m in moves) == pytest.approx(after.composite - before.composite)


def test_nothing_moved_between_equal_states():
    state = CompositeState(0.3, {1: 0.3}, {1: 0.3})
    assert [m.change for m in composite_moved(state, state)] == [0.0]
    assert composite_history([]) == []
