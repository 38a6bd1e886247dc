"""The simulated crowd: deterministic, inside the service's bounds, and each kind behaves as named."""

from __future__ import annotations

import random
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime

import pytest

from demo.simulation import (
    KINDS,
    SEED_NEWS,
    SimForecaster,
    SimQuestion,
    make_crowd,
    questions_from_seed,
    simulate,
)
from forecast_math.continuous import quantile, validate_cdf
from questions.seed import load_seed


def _t(value: str) -> datetime:
    return datetime.fromisoformat(value)


@pytest.fixture(scope="module")
def seed_questions() -> list[SimQuestion]:
    return questions_from_seed(load_seed())


@pytest.fixture(scope="module")
def crowd() -> list[SimForecaster]:
    return make_crowd()


@pytest.fixture(scope="module")
def rows(seed_questions: list[SimQuestion], crowd: list[SimForecaster]) -> list[dict]:
    return simulate(seed_questions, crowd)


def _toy_questions() -> list[SimQuestion]:
    opened = datetime(2021, 11, 16, tzinfo=UTC)
    return [
        SimQuestion(f"t{i}-{o}", ["yes", "no"], opened, datetime(2024, 12, 31, tzinfo=UTC), None, o)
        for i in range(12)
        for o in ("yes", "no")
    ]


def _forecasts_by_kind(rows: list[dict], crowd: list[SimForecaster], outcomes: dict[str, str | None]):
    kind = {f.username: f.kind for f in crowd}
    out: dict[tuple[str, str | None], list[float]] = defaultdict(list)
    for r in rows:
        if "probability" in r:
            out[(kind[r["user"]], outcomes[r["question"]])].append(r["probability"])
    return out


# ------------------------------------------------------------------------------------- the crowd


def test_crowd_has_36_unique_simulated_users_of_every_kind(crowd: list[SimForecaster]) -> None:
    assert len(crowd) == 36
    assert len({f.username for f in crowd}) == 36
    assert all(f.username.startswith("sim_") and f.display_name for f in crowd)
    assert set(Counter(f.kind for f in crowd)) == set(KINDS)


def test_make_crowd_is_deterministic_and_sized() -> None:
    assert make_crowd(20, seed=7) == make_crowd(20, seed=7)
    assert len(make_crowd(5)) == 5
    assert make_crowd(0) == []


# ------------------------------------------------------------------------------------ determinism


def test_same_seed_same_forecasts(seed_questions: list[SimQuestion], crowd: list[SimForecaster], rows) -> None:
    assert simulate(seed_questions, crowd) == rows
    assert simulate(seed_questions, make_crowd(seed=2021), seed=2021) == rows


def test_other_seed_other_forecasts(seed_questions: list[SimQuestion], crowd: list[SimForecaster], rows) -> None:
    assert simulate(seed_questions, crowd, seed=7) != rows


def test_global_random_state_is_left_alone(seed_questions: list[SimQuestion], crowd: list[SimForecaster]) -> None:
    state = random.getstate()
    assert simulate(seed_questions[:5], crowd), "it did draw forecasts"
    assert random.getstate() == state


def test_unresolved_truth_does_not_depend_on_the_seed(crowd: list[SimForecaster]) -> None:
    # An unresolved question's hidden truth is a coin seeded from the slug, so the crowd's lean is stable.
    opened, closes = datetime(2021, 11, 16, tzinfo=UTC), datetime(2025, 12, 31, tzinfo=UTC)
    q = SimQuestion("open-question", ["yes", "no"], opened, closes, None, None)
    calibrated = [f for f in crowd if f.kind == "calibrated"] * 3
    means = []
    for s in (1, 2, 3):
        ps = [r["probability"] for r in simulate([q], calibrated, seed=s) if "probability" in r]
        assert ps, f"seed {s}: no forecasts to compare"
        means.append(statistics.mean(ps) > 0.5)
    assert len(set(means)) == 1


# -------------------------------------------------------------------------------------- the shape


def test_rows_are_sorted_and_in_the_import_history_shape(rows: list[dict], seed_questions) -> None:
    assert rows == sorted(rows, key=lambda r: r["time"])
    kinds = {q.slug: q.is_binary for q in seed_questions}
    continuous = {q.slug for q in seed_questions if q.continuous}
    assert continuous, "the seed has a numeric and a date question"
    for r in rows:
        assert set(r) - {"probability", "probabilities", "cdf", "withdraw"} == {"question", "user", "time"}
        assert r["time"].endswith("Z") and len(r["time"]) == 20
        values = [k for k in ("probability", "probabilities", "cdf", "withdraw") if k in r]
        assert len(values) == 1
        if "withdraw" in r:
            assert r["withdraw"] is True
        elif r["question"] in continuous:
            assert "cdf" in r
        elif kinds[r["question"]]:
            assert "probability" in r
        else:
            assert "probabilities" in r
    assert any("withdraw" in r for r in rows), "withdrawals happen now and then"


def test_continuous_forecasts_are_valid_cdfs_that_learn(rows: list[dict], seed_questions: list[SimQuestion]) -> None:
    """Every simulated CDF passes the service's rules; the calibrated forecasters' medians end
    nearer the true value than they start."""
    by_slug = {q.slug: q for q in seed_questions if q.continuous}
    cdfs = [r for r in rows if "cdf" in r]
    assert {r["question"] for r in cdfs} == set(by_slug)
    for r in cdfs:
        q = by_slug[r["question"]]
        validate_cdf(r["cdf"], open_lower=q.open_lower, open_upper=q.open_upper)
    for slug, q in by_slug.items():
        errors = [abs(quantile(r["cdf"], 0.5) - q.value) for r in cdfs if r["question"] == slug]
        half = len(errors) // 2
        assert statistics.mean(errors[half:]) < statistics.mean(errors[:half]), slug


def test_probabilities_are_rounded_and_bounded(rows: list[dict]) -> None:
    binary = [r["probability"] for r in rows if "probability" in r]
    assert binary
    for p in binary:
        assert 0.01 <= p <= 0.99
        assert round(p, 3) == p


def test_multiple_choice_vectors_sum_to_one(rows: list[dict], seed_questions: list[SimQuestion]) -> None:
    options = {q.slug: q.options for q in seed_questions}
    vectors = [r for r in rows if "probabilities" in r]
    assert vectors
    for r in vectors:
        probs = r["probabilities"]
        assert list(probs) == options[r["question"]]
        assert all(0.001 <= p <= 0.999 and round(p, 3) == p for p in probs.values())
        assert sum(round(p * 1000) for p in probs.values()) == 1000
        assert abs(sum(probs.values()) - 1.0) < 1e-9


def test_many_options_still_sum_to_one(crowd: list[SimForecaster]) -> None:
    opened, closes = datetime(2021, 11, 16, tzinfo=UTC), datetime(2023, 1, 1, tzinfo=UTC)
    labels = [f"bin {i}" for i in range(9)]
    q = SimQuestion("nine-way", labels, opened, closes, None, "bin 8")
    rows = [r for r in simulate([q], crowd, seed=3) if "probabilities" in r]
    assert rows
    for r in rows:
        assert sum(round(p * 1000) for p in r["probabilities"].values()) == 1000
        assert all(0.001 <= p <= 0.999 for p in r["probabilities"].values())


def test_nothing_at_or_after_close_or_known_at(rows: list[dict], seed_questions: list[SimQuestion]) -> None:
    by_slug = {q.slug: q for q in seed_questions}
    early = [q for q in seed_questions if q.known_at is not None]
    assert early
    for r in rows:
        q = by_slug[r["question"]]
        t = _t(r["time"])
        assert q.open_time <= t < q.close_time
        if q.known_at is not None:
            assert t < q.known_at


def test_each_forecaster_makes_15_to_25_forecasts_and_each_question_has_a_crowd(
    rows: list[dict], crowd: list[SimForecaster], seed_questions: list[SimQuestion]
) -> None:
    per_user = Counter(r["user"] for r in rows if "withdraw" not in r)
    assert set(per_user) == {f.username for f in crowd}
    assert all(12 <= n <= 30 for n in per_user.values()), per_user
    assert 15 <= statistics.mean(per_user.values()) <= 25
    forecasters = defaultdict(set)
    for r in rows:
        forecasters[r["question"]].add(r["user"])
    assert all(len(forecasters[q.slug]) >= 3 for q in seed_questions)


def test_no_duplicate_times_for_a_user_on_a_question(rows: list[dict]) -> None:
    keys = [(r["question"], r["user"], r["time"]) for r in rows]
    assert len(keys) == len(set(keys))


def test_late_joiners_start_in_2023_or_later(rows: list[dict], crowd: list[SimForecaster]) -> None:
    late = {f.username for f in crowd if f.kind == "late_joiner"}
    times = [_t(r["time"]) for r in rows if r["user"] in late]
    assert times and min(times) >= datetime(2023, 1, 1, tzinfo=UTC)
    others = [_t(r["time"]) for r in rows if r["user"] not in late]
    assert min(others) < datetime(2022, 1, 1, tzinfo=UTC), "the rest start from Nov 2021"


def test_everyone_forecasts_the_first_weeks(rows: list[dict]) -> None:
    assert min(_t(r["time"]) for r in rows) < datetime(2021, 12, 1, tzinfo=UTC)


# ------------------------------------------------------------------------------------------ kinds


def test_calibrated_crowd_leans_towards_the_truth(rows, crowd, seed_questions) -> None:
    got = _forecasts_by_kind(rows, crowd, {q.slug: q.outcome for q in seed_questions})
    assert statistics.mean(got[("calibrated", "yes")]) > statistics.mean(got[("calibrated", "no")]) + 0.1


def test_kinds_behave_on_a_balanced_question_set(crowd: list[SimForecaster]) -> None:
    questions = _toy_questions()
    rows = simulate(questions, crowd, seed=11)
    got = _forecasts_by_kind(rows, crowd, {q.slug: q.outcome for q in questions})

    def gap(kind: str) -> float:
        return statistics.mean(got[(kind, "yes")]) - statistics.mean(got[(kind, "no")])

    def extremity(kind: str) -> float:
        return statistics.mean(abs(p - 0.5) for o in ("yes", "no") for p in got[(kind, o)])

    assert gap("calibrated") > 0.15
    assert gap("news_updater") > 0.1 and gap("late_joiner") > 0.1
    assert gap("contrarian") < 0, "contrarians lean against the evidence"
    assert abs(gap("noisy")) < gap("calibrated") / 2, "noise carries little information"
    assert extremity("overconfident") > extremity("calibrated") + 0.05
    assert extremity("underconfident") < extremity("calibrated") - 0.03


def test_overconfident_more_extreme_than_calibrated_on_the_seed(rows, crowd, seed_questions) -> None:
    kind = {f.username: f.kind for f in crowd}

    def extremity(k: str) -> float:
        return statistics.mean(abs(r["probability"] - 0.5) for r in rows if "probability" in r and kind[r["user"]] == k)

    assert extremity("overconfident") > extremity("calibrated")


def test_news_updaters_move_towards_the_truth_after_news(crowd: list[SimForecaster]) -> None:
    opened, closes = datetime(2021, 11, 16, tzinfo=UTC), datetime(2025, 12, 31, tzinfo=UTC)
    news = tuple((datetime(2022 + i, 6, 1, tzinfo=UTC), f"event {i}") for i in range(3))
    questions = [SimQuestion(f"n{i}", ["yes", "no"], opened, closes, None, "yes", news) for i in range(10)]
    updaters = [f for f in crowd if f.kind == "news_updater"]
    rows = [r for r in simulate(questions, updaters, seed=5) if "probability" in r]
    before = [r["probability"] for r in rows if _t(r["time"]) < news[0][0]]
    after = [r["probability"] for r in rows if _t(r["time"]) > news[-1][0]]
    assert before and after
    assert statistics.mean(after) > statistics.mean(before) + 0.15
    # They also forecast shortly after the news.
    assert any(0 < (_t(r["time"]) - news[1][0]).days <= 5 for r in rows)


# ------------------------------------------------------------------------------------ edge cases


def test_bad_input_is_refused() -> None:
    opened, closes = datetime(2021, 11, 16, tzinfo=UTC), datetime(2022, 1, 1, tzinfo=UTC)
    crowd = make_crowd(3)
    with pytest.raises(ValueError, match="outcome"):
        simulate([SimQuestion("x", ["yes", "no"], opened, closes, None, "maybe")], crowd)
    with pytest.raises(ValueError, match="window"):
        simulate([SimQuestion("x", ["yes", "no"], closes, opened, None, "yes")], crowd)
    with pytest.raises(ValueError, match="kind"):
        simulate([], [SimForecaster("u", "U", "psychic")])


def test_short_windows_and_no_crowd() -> None:
    opened = datetime(2021, 11, 16, tzinfo=UTC)
    q = SimQuestion("short", ["yes", "no"], opened, datetime(2021, 11, 17, tzinfo=UTC), None, "no")
    assert simulate([q], []) == []
    rows = simulate([q], make_crowd(10))
    assert rows, "a one-day window still gets forecasts"
    assert all(opened <= _t(r["time"]) < q.close_time for r in rows)


def test_seed_news_refers_to_seed_questions(seed_questions: list[SimQuestion]) -> None:
    slugs = {q.slug for q in seed_questions}
    assert set(SEED_NEWS) <= slugs
    assert any(q.news for q in seed_questions)
