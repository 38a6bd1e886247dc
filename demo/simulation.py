"""A deterministic simulated crowd, for the demo and for exercising the scoring engine.

Nothing here touches Django or the database: it takes plain question descriptions and returns
time-stamped forecasts in the ``import_history`` shape of the contracts, so the output can be written
to JSON, replayed through ``import_history`` or fed straight to ``score_json``.

The model, in brief. Every (forecaster, question) pair gets a private signal about the true outcome,
drawn once. A forecaster's view of a question at time t, in log-odds, is the question's prior, plus
their signal, plus public information that accumulates towards the truth as the window runs out, plus
the news items published so far, plus a little day-to-day noise. The forecaster's *kind* then decides
what they report:

- ``calibrated``: that view, honestly;
- ``overconfident``: the view stretched away from 50% (log-odds multiplied);
- ``underconfident``: the view shrunk towards 50%;
- ``contrarian``: the prior pushed the *other* way from their evidence;
- ``noisy``: numbers unrelated to the evidence;
- ``late_joiner``: a calibrated forecaster who only signs up in 2023 or later;
- ``news_updater``: a weaker signal, but a clear move towards the truth after each news item, and a
  fresh forecast shortly after it.

Numeric and date questions get the same treatment in range units (0 at the lower bound, 1 at the
upper): each forecast is one logistic bump whose centre moves from the question's public prior
towards the true value as information accumulates, and whose spread narrows with time; the kinds
bend it the same way (overconfident: too narrow, underconfident: too wide, contrarian: away from the
truth, noisy: anywhere). The bump becomes the 201-point CDF that the service stores.

For questions without an outcome the "truth" is a coin seeded from the slug alone, so it does not
change with the simulation seed. Every random draw comes from ``random.Random`` instances seeded with
strings built from the seed, the user and the slug (string seeds are hashed with SHA-512, so this is
stable across processes and Python's hash randomisation), and no global random state is read or
written.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from forecast_math import parse_instant
from forecast_math.continuous import cdf_from_mixture, to_range_units

__all__ = [
    "KINDS",
    "SEED_NEWS",
    "SimForecaster",
    "SimQuestion",
    "make_crowd",
    "questions_from_seed",
    "simulate",
]

KINDS: tuple[str, ...] = (
    "calibrated",
    "overconfident",
    "contrarian",
    "noisy",
    "late_joiner",
    "news_updater",
    "underconfident",
)

# How a crowd of n is split between kinds: shares of the whole, largest first after calibrated.
_KIND_WEIGHTS: dict[str, float] = {
    "calibrated": 8,
    "overconfident": 5,
    "noisy": 5,
    "late_joiner": 5,
    "news_updater": 5,
    "contrarian": 4,
    "underconfident": 4,
}

LATE_JOIN_FROM = datetime(2023, 1, 1, tzinfo=UTC)

# What the simulated crowd ever says; the service itself accepts 0.001..0.999.
P_MIN, P_MAX = 0.01, 0.99
_MILLI_MIN, _MILLI_MAX = 10, 990
_MIN_FORECASTERS_PER_QUESTION = 3
_WITHDRAW_CHANCE = 0.04


@dataclass(frozen=True)
class SimQuestion:
    """What the simulation needs to know about a question.

    ``options`` is ``["yes", "no"]`` for a binary question, else the option labels in order.
    ``outcome`` is the resolved option label (``"yes"``/``"no"`` for binary) or None when unresolved.
    ``news`` lists dated public events; informed forecasters move towards the truth after each.
    Datetimes should be timezone-aware; naive ones are taken as UTC.
    """

    slug: str
    options: list[str]
    open_time: datetime
    close_time: datetime
    known_at: datetime | None = None
    outcome: str | None = None
    news: Sequence[tuple[datetime, str]] = field(default=())
    #: numeric and date questions: the bounds' openness and the outcome in range units (0 = lower,
    #: 1 = upper; -inf / +inf beyond an open bound); ``options`` is then empty.
    continuous: bool = False
    open_lower: bool = False
    open_upper: bool = False
    value: float | None = None

    @property
    def is_binary(self) -> bool:
        return [o.lower() for o in self.options] == ["yes", "no"]


@dataclass(frozen=True)
class SimForecaster:
    username: str
    display_name: str
    kind: str


# ----------------------------------------------------------------------------------------- crowd

_NAMES = (
    "Amara Bogdan Chiara Dawit Elif Farid Greta Hiro Ines Jonas Kavya Luca Mei Nikolai Oluwaseun "
    "Priya Quentin Rosa Sami Tamar Umar Vera Wen Ximena Yusuf Zofia Anders Bea Cyrus Dilnoza Emeka "
    "Fatima Gulnara Hamid Ilse Jae Kofi Lena Marat Noor"
)
_FIRST_NAMES = tuple(_NAMES.split())
_SURNAME_INITIALS = "ABCDEFGHIJKLMNOPRSTVWYZ"


def _kind_counts(n: int) -> list[str]:
    """Split n forecasters between the kinds in the fixed proportions (largest remainder)."""
    total = sum(_KIND_WEIGHTS.values())
    exact = {k: n * w / total for k, w in _KIND_WEIGHTS.items()}
    counts = {k: int(v) for k, v in exact.items()}
    order = sorted(_KIND_WEIGHTS, key=lambda k: (-(exact[k] - counts[k]), KINDS.index(k)))
    for k in order[: n - sum(counts.values())]:
        counts[k] += 1
    return [k for k in KINDS for _ in range(counts[k])]


def make_crowd(n: int = 36, *, seed: int = 2021) -> list[SimForecaster]:
    """A crowd of n simulated forecasters, every kind represented once n >= 7.

    Usernames start with ``sim_`` so simulated accounts can never be mistaken for people.
    """
    if n < 0:
        raise ValueError("n: must be >= 0")
    rng = random.Random(f"crowd:{seed}")
    kinds = _kind_counts(n)
    rng.shuffle(kinds)
    crowd = []
    for i, kind in enumerate(kinds, start=1):
        first = _FIRST_NAMES[(i - 1) % len(_FIRST_NAMES)]
        initial = rng.choice(_SURNAME_INITIALS)
        crowd.append(
            SimForecaster(
                username=f"sim_{first.lower()}_{i:02d}",
                display_name=f"{first} {initial}.",
                kind=kind,
            )
        )
    return crowd


# ------------------------------------------------------------------------------------ simulation


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _truth_index(q: SimQuestion) -> int:
    if q.outcome is not None:
        labels = [o.lower() for o in q.options] if q.is_binary else list(q.options)
        key = q.outcome.lower() if q.is_binary else q.outcome
        if key not in labels:
            raise ValueError(f"{q.slug}.outcome: {q.outcome!r} is not one of {q.options}")
        return labels.index(key)
    # Unresolved: a fixed coin (or die, for multiple choice) seeded from the slug alone.
    return random.Random(f"truth:{q.slug}").randrange(len(q.options))


def _truth_value(q: SimQuestion) -> float:
    """The outcome in range units, or a value seeded from the slug alone when unresolved."""
    if q.value is not None:
        return q.value
    return random.Random(f"truth:{q.slug}").uniform(0.1, 0.9)


def _window_end(q: SimQuestion) -> datetime:
    close = _utc(q.close_time)
    return min(close, _utc(q.known_at)) if q.known_at is not None else close


@dataclass(frozen=True)
class _Style:
    signal_weight: float  # how much the private signal counts
    drift: float  # how much accumulated public information counts by the end of the window
    news_weight: float  # log-odds move per news item
    noise: float  # day-to-day wobble (sd, log-odds)
    scale: float  # multiplies the reported log-odds: > 1 overconfident, < 1 underconfident


_STYLES: dict[str, _Style] = {
    "calibrated": _Style(0.55, 1.6, 0.35, 0.30, 1.0),
    "late_joiner": _Style(0.55, 1.6, 0.35, 0.30, 1.0),
    "overconfident": _Style(0.55, 1.6, 0.35, 0.30, 2.3),
    "underconfident": _Style(0.55, 1.6, 0.35, 0.30, 0.45),
    "contrarian": _Style(0.55, 1.6, 0.35, 0.30, -0.8),
    "news_updater": _Style(0.30, 1.0, 1.0, 0.25, 1.0),
    "noisy": _Style(0.0, 0.0, 0.0, 0.0, 0.0),
}
_SIGNAL_MEAN = 0.8  # mean of the private signal for the true option, in sd units


def _binary_probability(prior: float, evidence: float, style: _Style, rng: random.Random, kind: str) -> float:
    if kind == "noisy":
        return rng.uniform(0.03, 0.97)
    wobble = rng.gauss(0.0, style.noise)
    return _sigmoid(_logit(prior) + style.scale * (evidence + wobble))


def _vector_probabilities(evidence: list[float], style: _Style, rng: random.Random, kind: str) -> list[float]:
    if kind == "noisy":
        raw = [rng.gammavariate(1.0, 1.0) for _ in evidence]
    else:
        logits = [style.scale * (e + rng.gauss(0.0, style.noise)) for e in evidence]
        top = max(logits)
        raw = [math.exp(z - top) for z in logits]
    total = sum(raw)
    return [r / total for r in raw]


def _continuous_cdf(
    q: SimQuestion, prior: float, elapsed: float, public: float, style: _Style, rng: random.Random, kind: str
) -> list[float]:
    """One logistic bump in range units, as the 201-point CDF (rounded to 1e-6)."""
    if kind == "noisy":
        centre, scale = rng.uniform(0.05, 0.95), rng.uniform(0.03, 0.2)
    else:
        truth = min(1.05, max(-0.05, _truth_value(q)))
        learnt = min(1.0, 0.25 + 0.25 * public)  # how far from the prior towards the truth
        pull = learnt if style.scale >= 0 else -0.5 * learnt
        centre = prior + pull * (truth - prior) + rng.gauss(0.0, 0.04 + 0.1 * style.noise)
        width = {"overconfident": 0.4, "underconfident": 2.0}.get(kind, 1.0)
        scale = width * (0.09 - 0.05 * elapsed) * math.exp(rng.gauss(0.0, 0.15))
    component = {"centre": min(0.98, max(0.02, centre)), "scale": scale, "weight": 1.0}
    cdf = cdf_from_mixture([component], open_lower=q.open_lower, open_upper=q.open_upper)
    return [round(float(c), 6) for c in cdf]


def _round_binary(p: float) -> float:
    return round(min(P_MAX, max(P_MIN, p)), 3)


def _round_vector(probs: Sequence[float]) -> list[float]:
    """Round to thousandths inside [0.01, 0.99] so that the thousandths sum to exactly 1000.

    The rounding error goes to the last option, as the brief asks; if that would push it out of
    bounds, the remainder is spread over the other options that still have room.
    """
    k = len(probs)
    if not (_MILLI_MIN * k <= 1000 <= _MILLI_MAX * k):
        raise ValueError(f"options: cannot keep {k} options within [{P_MIN}, {P_MAX}]")
    millis = [min(_MILLI_MAX, max(_MILLI_MIN, round(p * 1000))) for p in probs]
    millis[-1] += 1000 - sum(millis)
    if not _MILLI_MIN <= millis[-1] <= _MILLI_MAX:
        millis[-1] = min(_MILLI_MAX, max(_MILLI_MIN, millis[-1]))
        residual = 1000 - sum(millis)  # feasible by the check above, so this loop ends
        step = 1 if residual > 0 else -1
        i = 0
        while residual:
            if _MILLI_MIN <= millis[i] + step <= _MILLI_MAX:
                millis[i] += step
                residual -= step
            i = (i + 1) % (k - 1)
    out = [m / 1000 for m in millis]
    assert sum(millis) == 1000 and all(0.001 <= p <= 0.999 for p in out), millis
    return out


def _schedule(
    q: SimQuestion,
    n: int,
    start: datetime,
    end: datetime,
    rng: random.Random,
    kind: str,
) -> list[datetime]:
    """n forecast times in [start, end), strictly increasing, whole seconds."""
    span = (end - start).total_seconds()
    first = start + timedelta(seconds=rng.uniform(0, min(0.25 * span, 90 * 86400)))
    times = [first]
    rest = n - 1
    if kind == "news_updater":
        upcoming = [_utc(d) for d, _ in q.news if first < _utc(d) < end]
        for d in upcoming[:rest]:
            times.append(d + timedelta(seconds=rng.uniform(3600, 5 * 86400)))
        rest = n - len(times)
    later = (end - first).total_seconds()
    times += [first + timedelta(seconds=rng.uniform(0, later)) for _ in range(rest)]
    out: list[datetime] = []
    for t in sorted(times):
        t = t.replace(microsecond=0)
        if out and t <= out[-1]:
            t = out[-1] + timedelta(seconds=1)
        if start <= t < end:
            out.append(t)
    return out


def _pair_forecasts(
    q: SimQuestion,
    f: SimForecaster,
    n: int,
    start: datetime,
    seed: int,
) -> list[dict[str, Any]]:
    rng = random.Random(f"sim:{seed}:{f.username}:{q.slug}")
    end = _window_end(q)
    open_time = _utc(q.open_time)
    truth = 0 if q.continuous else _truth_index(q)
    style = _STYLES[f.kind]
    news_dates = sorted(_utc(d) for d, _ in q.news)
    width = (end - open_time).total_seconds() or 1.0

    # One private signal per option, fixed for the pair; the true option's is shifted up.
    signals = [rng.gauss(_SIGNAL_MEAN if j == truth else 0.0, 1.0) for j in range(len(q.options))]

    prior = random.Random(f"prior:{q.slug}").uniform(0.25, 0.6)  # the public starting point

    rows: list[dict[str, Any]] = []
    times = _schedule(q, n, start, end, rng, f.kind)
    for t in times:
        elapsed = min(1.0, max(0.0, (t - open_time).total_seconds() / width))
        public = style.drift * elapsed**1.5 + style.news_weight * sum(d <= t for d in news_dates)
        row: dict[str, Any] = {"question": q.slug, "user": f.username, "time": _iso(t)}
        if q.continuous:
            row["cdf"] = _continuous_cdf(q, prior, elapsed, public, style, rng, f.kind)
        elif q.is_binary:
            direction = 1.0 if truth == 0 else -1.0
            evidence = style.signal_weight * (signals[0] - signals[1]) / math.sqrt(2) + direction * public
            row["probability"] = _round_binary(_binary_probability(prior, evidence, style, rng, f.kind))
        else:
            evidence = [style.signal_weight * s + (public if j == truth else 0.0) for j, s in enumerate(signals)]
            probs = _round_vector(_vector_probabilities(evidence, style, rng, f.kind))
            row["probabilities"] = dict(zip(q.options, probs, strict=True))
        rows.append(row)

    if rows and rng.random() < _WITHDRAW_CHANCE:
        last = times[-1]
        gap = (end - last).total_seconds()
        if gap > 2:
            t = (last + timedelta(seconds=rng.uniform(1, gap - 1))).replace(microsecond=0)
            if last < t < end:
                rows.append({"question": q.slug, "user": f.username, "time": _iso(t), "withdraw": True})
    return rows


def _join_time(f: SimForecaster, seed: int) -> datetime | None:
    if f.kind != "late_joiner":
        return None
    rng = random.Random(f"join:{seed}:{f.username}")
    return LATE_JOIN_FROM + timedelta(seconds=rng.uniform(0, 540 * 86400))


def simulate(questions: list[SimQuestion], crowd: list[SimForecaster], *, seed: int = 2021) -> list[dict[str, Any]]:
    """Time-stamped forecasts of the crowd on the questions, sorted by time.

    Each row is ``{"question", "user", "time", "probability"}`` (binary),
    ``{"question", "user", "time", "probabilities": {label: p}}`` (multiple choice),
    ``{"question", "user", "time", "cdf": [201 floats]}`` (numeric and date) or, now and then,
    ``{"question", "user", "time", "withdraw": True}``. Every time lies in [open, min(close, known_at)).
    Each forecaster takes part in a handful of the questions they can reach (late joiners only in
    windows still open after they join), 15 to 25 forecasts in all for a set like the seed series,
    and every question gets at least three forecasters where the crowd allows it.
    """
    for q in questions:
        if not q.continuous and len(q.options) < 2:
            raise ValueError(f"{q.slug}.options: need at least two")
        if not _utc(q.open_time) < _window_end(q):
            raise ValueError(f"{q.slug}: the window [open, min(close, known_at)) is empty")
        if not q.continuous:
            _truth_index(q)  # validates the outcome label
    unknown = {f.kind for f in crowd} - set(KINDS)
    if unknown:
        raise ValueError(f"crowd.kind: unknown kinds {sorted(unknown)}")

    # Who forecasts which question how many times: (username, slug) -> (count, start).
    plan: dict[tuple[str, str], tuple[int, datetime]] = {}
    coverage: dict[str, int] = {q.slug: 0 for q in questions}

    def reachable(f: SimForecaster, q: SimQuestion) -> datetime | None:
        start = max(_utc(q.open_time), _join_time(f, seed) or _utc(q.open_time))
        return start if (_window_end(q) - start) >= timedelta(hours=6) else None

    for f in crowd:
        rng = random.Random(f"plan:{seed}:{f.username}")
        eligible = [q for q in questions if reachable(f, q) is not None]
        if not eligible:
            continue
        total = rng.randint(15, 25)
        chosen = rng.sample(eligible, min(len(eligible), rng.randint(6, 9), total))
        counts = [1] * len(chosen)
        for _ in range(total - len(chosen)):
            counts[rng.randrange(len(chosen))] += 1
        for q, c in zip(chosen, counts, strict=True):
            plan[(f.username, q.slug)] = (c, reachable(f, q))  # type: ignore[arg-type]
            coverage[q.slug] += 1

    load = {f.username: 0 for f in crowd}
    for (username, _), (count, _) in plan.items():
        load[username] += count

    # Top up thin questions so that every question has a crowd worth scoring against.
    top_up = random.Random(f"topup:{seed}")
    for q in questions:
        candidates = [f for f in crowd if (f.username, q.slug) not in plan and reachable(f, q) is not None]
        top_up.shuffle(candidates)
        # The least busy forecasters first, so no one ends up far above the usual load.
        candidates.sort(key=lambda f: load[f.username])
        while coverage[q.slug] < _MIN_FORECASTERS_PER_QUESTION and candidates:
            f = candidates.pop(0)
            load[f.username] += 2
            plan[(f.username, q.slug)] = (2, reachable(f, q))  # type: ignore[arg-type]
            coverage[q.slug] += 1

    by_slug = {q.slug: q for q in questions}
    by_user = {f.username: f for f in crowd}
    rows: list[dict[str, Any]] = []
    for (username, slug), (count, start) in plan.items():
        rows += _pair_forecasts(by_slug[slug], by_user[username], count, start, seed)
    rows.sort(key=lambda r: (r["time"], r["question"], r["user"]))
    return rows


# ------------------------------------------------------------------------------- the seed series

# A few dated public events per seed question (from the fact-check of the article), used as news;
# the data lives in demo/news.json.
SEED_NEWS: dict[str, list[tuple[str, str]]] = {
    slug: [(d, label) for d, label in items]
    for slug, items in json.loads(Path(__file__).with_name("news.json").read_text(encoding="utf-8"))["news"].items()
}


def _parse_time(value: str | datetime | None) -> datetime | None:
    return None if value is None else parse_instant(value, allow_date=True)


def questions_from_seed(
    seed_data: Mapping[str, Any], news: Mapping[str, Iterable[tuple[str, str]]] | None = None
) -> list[SimQuestion]:
    """SimQuestions for the questions of a seed (import_history-format) dict, with SEED_NEWS attached."""
    news = SEED_NEWS if news is None else news
    out = []
    for q in seed_data["questions"]:
        if q["type"] in ("numeric", "date"):
            out.append(_continuous_question(q, news))
            continue
        options = list(q["options"]) if q["type"] == "multiple_choice" else ["yes", "no"]
        out.append(
            SimQuestion(
                slug=q["slug"],
                options=options,
                open_time=_parse_time(q["open_time"]),  # type: ignore[arg-type]
                close_time=_parse_time(q["close_time"]),  # type: ignore[arg-type]
                known_at=_parse_time(q.get("known_at")),
                outcome=q.get("resolution") if q.get("resolution") not in (None, "annulled") else None,
                news=tuple((_parse_time(d), label) for d, label in news.get(q["slug"], ())),  # type: ignore[misc]
            )
        )
    return out


def _bound(q: Mapping[str, Any], value: Any) -> float:
    if q["type"] == "date":
        return parse_instant(value, allow_date=True).timestamp()
    return float(value)


def _continuous_question(q: Mapping[str, Any], news: Mapping[str, Iterable[tuple[str, str]]]) -> SimQuestion:
    lower, upper = _bound(q, q["lower"]), _bound(q, q["upper"])
    resolution = q.get("resolution")
    if resolution in (None, "annulled"):
        value = None
    elif resolution in ("below", "above"):
        value = -math.inf if resolution == "below" else math.inf
    else:
        value = to_range_units(_bound(q, resolution), lower, upper)
    return SimQuestion(
        slug=q["slug"],
        options=[],
        open_time=_parse_time(q["open_time"]),  # type: ignore[arg-type]
        close_time=_parse_time(q["close_time"]),  # type: ignore[arg-type]
        known_at=_parse_time(q.get("known_at")),
        news=tuple((_parse_time(d), label) for d, label in news.get(q["slug"], ())),  # type: ignore[misc]
        continuous=True,
        open_lower=bool(q.get("open_lower", False)),
        open_upper=bool(q.get("open_upper", False)),
        value=value,
    )
