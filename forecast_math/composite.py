"""The composite of a strategic question (contracts.md, "Strategic questions"): indicator
questions rolled up into one number in [-1, 1], after the Metaculus Indexes method. Pure Python,
no Django.

An indicator's *value* is where its forecast sits on [-1, 1], times its direction (+1: a YES or a
higher option moves the strategic question towards its "more" pole; -1: away from it):

* binary: ``2 * P(yes) - 1``;
* ordered multiple choice with K options (index 0 the lowest): ``2 * E[option index] / (K - 1) - 1``;
* unordered multiple choice has no "higher" option, so it has no value: ``indicator_kind`` answers
  None for it and an ``Indicator`` refuses it (the strategy app refuses such a link).

A resolved indicator uses its outcome instead of the crowd (P(yes) = 1 or 0; the resolved option's
index with probability 1). An annulled one has no value. An indicator with no value (no crowd yet,
the crowd still hidden, annulled) is left out: the composite is the weighted mean over the
indicators that have one, ``sum(w_i * v_i) / sum(w_i)``, and None when none has.

An indicator's *contribution* is ``w_i * v_i / W`` with ``W`` the total weight of the indicators
that have a value at that instant, so the contributions add up to the composite, and "what moved
it" between two instants (``composite_moved``) is each indicator's change of contribution, which
adds up to the change of the composite (an indicator that stands still can still move by the
dilution of its share when another one gains or loses its value).

Times are seconds since the epoch (floats), as in the rest of forecast_math.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

#: An indicator's kind: how its forecast maps to [-1, 1].
BINARY = "binary"
ORDERED = "ordered"
INDICATOR_KINDS = (BINARY, ORDERED)
#: +1: YES (a higher option) moves towards the "more" pole; -1: towards the "less" pole.
DIRECTIONS = (1, -1)


def indicator_kind(question_type: str, ordered: bool = False) -> str | None:
    """The kind of indicator a question makes ("binary" / "multiple_choice" as in score_json), or
    None when it cannot be one (unordered multiple choice: its options have no direction)."""
    if question_type == "binary":
        return BINARY
    if question_type == "multiple_choice" and ordered:
        return ORDERED
    return None


@dataclass(frozen=True)
class Indicator:
    """One linked question: `key` identifies it (a question id), `n_options` is K (2 for binary)."""

    key: Hashable
    kind: str
    n_options: int = 2
    direction: int = 1
    weight: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in INDICATOR_KINDS:
            raise ValueError(f"kind must be one of {INDICATOR_KINDS}, not {self.kind!r}")
        if self.kind == BINARY and self.n_options != 2:
            raise ValueError("a binary indicator has 2 options")
        if self.kind == ORDERED and self.n_options < 2:
            raise ValueError("an ordered indicator needs at least 2 options")
        if isinstance(self.direction, bool) or self.direction not in DIRECTIONS:
            raise ValueError("direction must be 1 or -1")
        if not (isinstance(self.weight, int | float) and math.isfinite(self.weight) and self.weight > 0):
            raise ValueError("weight must be a finite number > 0")


def _position(indicator: Indicator, probabilities: Sequence[float]) -> float:
    """Where a probability vector (in option order) sits on [-1, 1], before the direction."""
    p = [float(x) for x in probabilities]
    if len(p) != indicator.n_options:
        raise ValueError(f"expected {indicator.n_options} probabilities, got {len(p)}")
    if any(not math.isfinite(x) or x < 0 for x in p):
        raise ValueError("probabilities must be finite and non-negative")
    total = sum(p)
    if total <= 0:
        raise ValueError("probabilities must not all be zero")
    if indicator.kind == BINARY:
        return 2.0 * (p[0] / total) - 1.0  # option 0 is "yes"
    k = indicator.n_options
    expected = sum(i * x for i, x in enumerate(p)) / total
    return 2.0 * expected / (k - 1) - 1.0


def _clamp(x: float) -> float:
    return max(-1.0, min(1.0, x))


def crowd_value(indicator: Indicator, probabilities: Sequence[float]) -> float:
    """The indicator's value from a forecast (the crowd's), its direction applied."""
    return _clamp(indicator.direction * _position(indicator, probabilities))


def outcome_value(indicator: Indicator, outcome: int) -> float:
    """The indicator's value once resolved: `outcome` is the true option's index (binary: 0 is
    yes, 1 is no), its direction applied."""
    if isinstance(outcome, bool) or not isinstance(outcome, int) or not 0 <= outcome < indicator.n_options:
        raise ValueError(f"outcome must be an option index in [0, {indicator.n_options})")
    sure = [0.0] * indicator.n_options
    sure[outcome] = 1.0
    return crowd_value(indicator, sure)


@dataclass(frozen=True)
class CompositeState:
    """The composite at one instant: `values` and `contributions` hold only the indicators that
    have a value (keys of the others are absent); `composite` is None when none has."""

    composite: float | None
    values: Mapping[Hashable, float] = field(default_factory=dict)
    contributions: Mapping[Hashable, float] = field(default_factory=dict)


def composite_state(indicators: Iterable[Indicator], values: Mapping[Hashable, float | None]) -> CompositeState:
    """The weighted mean of the indicators' values (already signed by their directions). An
    indicator missing from `values`, or None there, has no value and is left out."""
    present: list[tuple[Indicator, float]] = []
    for ind in indicators:
        v = values.get(ind.key)
        if v is None:
            continue
        v = float(v)
        if not math.isfinite(v) or abs(v) > 1.0 + 1e-9:
            raise ValueError(f"the value of {ind.key!r} must be in [-1, 1], not {v}")
        present.append((ind, _clamp(v)))
    total = sum(ind.weight for ind, _ in present)
    if not present or total <= 0:
        return CompositeState(None, {}, {})
    contributions = {ind.key: ind.weight * v / total for ind, v in present}
    mean = sum(ind.weight * v for ind, v in present) / total
    return CompositeState(_clamp(mean), {ind.key: v for ind, v in present}, contributions)


def composite(indicators: Iterable[Indicator], values: Mapping[Hashable, float | None]) -> float | None:
    """Just the composite number of `composite_state`."""
    return composite_state(indicators, values).composite


@dataclass(frozen=True)
class IndicatorHistory:
    """What an indicator's value was over time.

    `crowd`: the crowd forecast as steps ``(time, probabilities or None)``, each standing until the
    next (None: no crowd then, e.g. too few forecasters to publish it). Steps count from
    ``max(open_time, visible_from)``: a step before it acts from it, and nothing counts before it
    (`visible_from` is when the crowd is revealed). From `resolved_time` on the outcome replaces
    the crowd: `outcome` is the true option's index, or None for an annulled question (no value)."""

    indicator: Indicator
    open_time: float
    crowd: Sequence[tuple[float, Sequence[float] | None]] = ()
    visible_from: float | None = None
    resolved_time: float | None = None
    outcome: int | None = None

    @property
    def counts_from(self) -> float:
        return self.open_time if self.visible_from is None else max(self.open_time, self.visible_from)


class _Lookup:
    """An indicator's value at any instant, by bisection over its crowd steps."""

    def __init__(self, h: IndicatorHistory):
        steps = sorted(((float(t), p) for t, p in h.crowd), key=lambda s: s[0])
        self.h = h
        self.start = h.counts_from
        self.times = [t for t, _ in steps]
        self.values = [None if p is None else crowd_value(h.indicator, p) for _, p in steps]
        self.final: float | None = None
        if h.resolved_time is not None and h.outcome is not None:
            self.final = outcome_value(h.indicator, h.outcome)

    def events(self) -> set[float]:
        out = {self.start, *(max(t, self.start) for t in self.times)}
        if self.h.resolved_time is not None:
            out.add(float(self.h.resolved_time))
        return out

    def at(self, t: float) -> float | None:
        if self.h.resolved_time is not None and t >= self.h.resolved_time:
            return self.final
        if t < self.start:
            return None
        i = bisect_right(self.times, t)
        return self.values[i - 1] if i else None


def composite_history(histories: Sequence[IndicatorHistory]) -> list[tuple[float, CompositeState]]:
    """The composite as a step function from the first indicator's open time: ``(time, state)``
    pairs, each standing until the next. A point is emitted where some indicator's value changes
    (a crowd step, a reveal, a resolution), not where nothing does; the first point is at the first
    open time, with a None composite if no indicator has a value yet. Empty without indicators."""
    keys = [h.indicator.key for h in histories]
    if len(set(keys)) != len(keys):
        raise ValueError("each indicator must appear once")
    if not histories:
        return []
    lookups = [_Lookup(h) for h in histories]
    first = min(h.open_time for h in histories)
    events = sorted(t for t in set().union(*(lk.events() for lk in lookups)) if t >= first)
    if not events or events[0] > first:
        events.insert(0, first)
    indicators = [h.indicator for h in histories]
    out: list[tuple[float, CompositeState]] = []
    previous: dict[Hashable, float] | None = None
    for t in events:
        values = {lk.h.indicator.key: lk.at(t) for lk in lookups}
        present = {k: v for k, v in values.items() if v is not None}
        if previous is not None and present == previous:
            continue
        out.append((t, composite_state(indicators, values)))
        previous = present
    return out


def composite_at(points: Sequence[tuple[float, CompositeState]], t: float) -> CompositeState:
    """The state in effect at `t` in a history from `composite_history` (the last point at or
    before `t`); before the first point, an empty state (None composite)."""
    i = bisect_right([p[0] for p in points], t)
    return points[i - 1][1] if i else CompositeState(None, {}, {})


@dataclass(frozen=True)
class Move:
    """One indicator's part in a change of the composite; `change` is its contribution's change."""

    key: Hashable
    value_before: float | None
    value_after: float | None
    contribution_before: float
    contribution_after: float
    change: float


def composite_moved(before: CompositeState, after: CompositeState) -> list[Move]:
    """What moved the composite from `before` to `after`: each indicator's change of contribution
    (0 where it had no value), largest absolute change first (ties: by key). Indicators
    with no value at either instant are absent. The changes add up to the composite's change,
    counting a None composite as 0."""
    keys = sorted(set(before.contributions) | set(after.contributions), key=_key_order)
    moves = [
        Move(
            key=k,
            value_before=before.values.get(k),
            value_after=after.values.get(k),
            contribution_before=before.contributions.get(k, 0.0),
            contribution_after=after.contributions.get(k, 0.0),
            change=after.contributions.get(k, 0.0) - before.contributions.get(k, 0.0),
        )
        for k in keys
    ]
    moves.sort(key=lambda m: -abs(m.change))  # stable: ties stay in key order
    return moves


def _key_order(key: Hashable) -> tuple:
    return (0, key, "") if isinstance(key, int | float) and not isinstance(key, bool) else (1, 0, str(key))
