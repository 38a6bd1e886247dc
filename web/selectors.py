"""Reads that only the site's pages need. They compose the domain selectors (questions.selectors,
forecasts.selectors) and never bypass their visibility rules: the crowd is hidden before the
reveal time unless the reader is staff, drafts are hidden from non-staff."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

from django.db.models import Prefetch, QuerySet

from forecast_math import DEFAULT_AGGREGATE
from forecasts.models import CrowdPoint, Forecast
from forecasts.selectors import crowd_history, crowd_visible, rationales_for_question, rationales_visible, with_crowd
from questions.models import Article, Question, Series
from questions.selectors import question_list, question_status
from scoring.models import Score
from strategy import selectors as strategy_selectors
from strategy.models import IndicatorLink, StrategicPoint, StrategicQuestion

from . import distributions

STATUS_LABELS = {
    "open": "Open",
    "closed": "Closed, awaiting resolution",
    "resolved": "Resolved",
    "annulled": "Annulled",
    "draft": "Draft",
}


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def latest_crowd(question: Question) -> CrowdPoint | None:
    """The current median crowd point; uses the prefetch of forecasts.selectors.with_crowd when present."""
    prefetched = getattr(question, "crowd_latest", None)
    if prefetched is not None:
        return prefetched[0] if prefetched else None
    return CrowdPoint.objects.filter(question=question, method=DEFAULT_AGGREGATE, is_latest=True).first()


@dataclass
class QuestionCard:
    """One question as the list and article pages show it."""

    question: Question
    status: str
    status_label: str
    crowd_visible: bool
    crowd: list[dict[str, Any]] | None  # [{"label", "p"}] in option order, when visible and someone stands
    n_forecasters: int | None
    outcome: str | None
    outcome_p: float | None = None  # the crowd's probability of what happened
    number: int | None = None  # its passage's number on the article page
    summary: distributions.Quartiles | None = None  # numeric/date: the crowd CDF's quartiles
    crowd_cdf: list[float] | None = None  # numeric/date: the crowd CDF itself, when visible


def question_card(question: Question, *, user: Any, now: datetime) -> QuestionCard:
    status = question_status(question, now)
    visible = crowd_visible(question=question, user=user, now=now)
    point = latest_crowd(question) if visible else None
    card = QuestionCard(
        question=question,
        status=status,
        status_label=STATUS_LABELS.get(status, status),
        crowd_visible=visible,
        crowd=None,
        n_forecasters=point.n_forecasters if point is not None else None,
        outcome=distributions.outcome_text(question),
    )
    if question.is_continuous:
        # The crowd CDF (it lives in the crowd point's probabilities) and its quartiles.
        card.crowd_cdf = point.probabilities if point is not None else None
        card.summary = distributions.quartiles(question, card.crowd_cdf)
    elif point is not None and point.probabilities is not None:
        options = list(question.options.all())
        card.crowd = [{"label": o.label, "p": p} for o, p in zip(options, point.probabilities, strict=False)]
        if question.resolved_option_id:
            card.outcome_p = next(
                (p for o, p in zip(options, point.probabilities, strict=False) if o.pk == question.resolved_option_id),
                None,
            )
    return card


def question_cards(questions: list[Question], *, user: Any, now: datetime) -> list[QuestionCard]:
    return [question_card(q, user=user, now=now) for q in questions]


def filter_choices(*, user: Any) -> dict[str, QuerySet]:
    """Series and articles that have at least one question the reader may see."""
    visible = question_list(user=user)
    return {
        "series": Series.objects.filter(questions__in=visible.values("pk")).distinct().order_by("title"),
        "articles": Article.objects.filter(questions__in=visible.values("pk")).distinct().order_by("title"),
    }


@dataclass
class HistoryRow:
    forecast: Forecast
    withdrawn: bool
    cells: list[dict[str, Any]] = field(default_factory=list)  # [{"label", "p"}]
    summary: distributions.Quartiles | None = None  # numeric/date: the forecast's quartiles


def forecast_history(*, question: Question, user: Any) -> list[HistoryRow]:
    """The reader's own forecasts and withdrawals on a question, newest first."""
    if user is None or not user.is_authenticated:
        return []
    options = list(question.options.all())
    continuous = question.is_continuous
    rows = []
    for f in Forecast.objects.filter(question=question, user=user).order_by("-created_at", "-id"):
        cells = []
        if f.probabilities is not None:
            cells = [{"label": o.label, "p": p} for o, p in zip(options, f.probabilities, strict=False)]
        summary = distributions.quartiles(question, f.cdf) if continuous else None
        rows.append(HistoryRow(forecast=f, withdrawn=f.kind == Forecast.Kind.WITHDRAWAL, cells=cells, summary=summary))
    return rows


RATIONALES_SHOWN = 50


def question_rationales(*, question: Question, user: Any, now: datetime) -> dict[str, Any]:
    """Others' rationales for the question page: `rationales_visible` (forecasts.selectors'
    rule), the latest RATIONALES_SHOWN of them (each with `cells`: label and probability), and
    whether there are more."""
    if not rationales_visible(question=question, user=user, now=now):
        return {"rationales_visible": False, "rationales": [], "rationales_more": False}
    labels = [o.label for o in question.options.all()]
    rows = list(rationales_for_question(question=question, reader=user)[: RATIONALES_SHOWN + 1])
    continuous = question.is_continuous
    for f in rows:
        f.cells = [{"label": label, "p": p} for label, p in zip(labels, f.probabilities or [], strict=False)]
        f.summary = distributions.quartiles(question, f.cdf) if continuous else None
    return {
        "rationales_visible": True,
        "rationales": rows[:RATIONALES_SHOWN],
        "rationales_more": len(rows) > RATIONALES_SHOWN,
    }


def crowd_series(*, question: Question) -> list[dict[str, Any]]:
    """The median crowd history, oldest first, read once for the chart and the table: each
    change's `time`, `n` forecasters and probabilities `p` in option order (None while nobody
    stands); for a numeric or date question `p` is None and `summary` has the crowd CDF's
    quartiles."""
    continuous = question.is_continuous
    rows = crowd_history(question=question, method=DEFAULT_AGGREGATE).values_list(
        "time", "n_forecasters", "probabilities"
    )
    return [
        {
            "time": time,
            "n": n,
            "p": None if continuous else probabilities,
            "summary": distributions.quartiles(question, probabilities) if continuous else None,
        }
        for time, n, probabilities in rows
    ]


def crowd_chart_data(
    *, question: Question, now: datetime, series: list[dict[str, Any]], history: list[HistoryRow] | None = None
) -> dict[str, Any]:
    """The median crowd history (crowd_series) as the chart script reads it (via json_script):
    one point per change, probabilities in option order or null while nobody stands (numeric and
    date: the quartiles `q`), and the time the last value holds until (now, or the close)."""
    continuous = question.is_continuous
    points = []
    for row in series:
        if continuous:
            s = row["summary"]
            points.append({"t": _ms(row["time"]), "q": [s.q25, s.q50, s.q75] if s else None})
        else:
            points.append({"t": _ms(row["time"]), "p": row["p"], "n": row["n"]})
    end = min(now, question.effective_close)
    if points and _ms(end) < points[-1]["t"]:
        end = now
    data = {
        "type": question.type,
        "labels": [o.label for o in question.options.all()],
        "points": points,
        "end": _ms(end),
        "open": _ms(question.open_time),
        # The reader's own binary forecasts (numeric/date: their medians), drawn as dots over the crowd's line.
        "mine": [
            {"t": _ms(r.forecast.created_at), "p": r.cells[0]["p"]}
            for r in (history or [])
            if not r.withdrawn and question.type == Question.Type.BINARY
        ],
    }
    if continuous:
        data["mine"] = [
            {"t": _ms(r.forecast.created_at), "m": r.summary.q50} for r in (history or []) if r.summary is not None
        ]
    return data


def crowd_table(series: list[dict[str, Any]], *, limit: int = 500) -> list[dict[str, Any]]:
    """The median crowd history (crowd_series) for the table beside the chart, newest first (at
    most `limit`)."""
    return series[::-1][:limit]


def score_for(*, question: Question, user: Any) -> Score | None:
    if user is None or not user.is_authenticated:
        return None
    return Score.objects.filter(question=question, user=user).first()


def crowd_score_for(*, question: Question) -> Score | None:
    return Score.objects.filter(question=question, user__isnull=True, crowd_method=DEFAULT_AGGREGATE).first()


# --- The article page ------------------------------------------------------------------------


@dataclass
class Segment:
    text: str
    question_ids: list[int] = field(default_factory=list)  # empty: plain text; else a highlighted passage

    @property
    def is_passage(self) -> bool:
        return bool(self.question_ids)

    @property
    def anchor_id(self) -> int | None:
        return self.question_ids[0] if self.question_ids else None

    @property
    def extra_ids(self) -> list[int]:
        return self.question_ids[1:]

    links: list[dict[str, Any]] = field(default_factory=list)  # [{"id", "number", "title"}]


def _spans(article: Article, questions: list[Question]) -> list[tuple[int, int, int]]:
    """(start, end, question id) of the questions whose passage lies in the text, in text order."""
    n = len(article.text)
    return sorted(
        (q.source_start, q.source_end, q.pk)
        for q in questions
        if q.source_start is not None and q.source_end is not None and q.source_end <= n
    )


def passage_numbers(article: Article, questions: list[Question]) -> dict[int, int]:
    """Question id -> the number its passage carries in the text (Q1, Q2, ... in text order)."""
    return {qid: i + 1 for i, (_, _, qid) in enumerate(_spans(article, questions))}


def article_segments(article: Article, questions: list[Question]) -> list[Segment]:
    """The article text cut into plain runs and highlighted passages. Overlapping passages merge
    into one highlight that carries an anchor for each of their questions."""
    text = article.text
    spans = _spans(article, questions)
    merged: list[list[Any]] = []  # [start, end, [ids]]
    for start, end, qid in spans:
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1][2].append(qid)
        else:
            merged.append([start, end, [qid]])
    numbers = passage_numbers(article, questions)
    titles = {q.pk: q.title for q in questions}
    segments: list[Segment] = []
    cursor = 0
    for start, end, ids in merged:
        if start > cursor:
            segments.append(Segment(text[cursor:start]))
        links = [{"id": qid, "number": numbers[qid], "title": titles[qid]} for qid in ids]
        segments.append(Segment(text[start:end], ids, links))
        cursor = end
    if cursor < len(text):
        segments.append(Segment(text[cursor:]))
    return segments


def article_questions(*, article: Article, user: Any) -> list[Question]:
    return list(with_crowd(question_list(user=user, article=article.pk)).order_by("indicator", "source_start", "id"))


def group_by_indicator(cards: list[QuestionCard]) -> list[tuple[str, list[QuestionCard]]]:
    """Cards grouped under their indicator heading, in order of first appearance in the text;
    questions without an indicator come last."""

    def first_pos(card: QuestionCard) -> int:
        return card.question.source_start if card.question.source_start is not None else 10**9

    keyed = sorted(cards, key=lambda c: (c.question.indicator == "", c.question.indicator, first_pos(c)))
    groups = [(name, list(items)) for name, items in groupby(keyed, key=lambda c: c.question.indicator)]
    groups.sort(key=lambda g: (g[0] == "", min(first_pos(c) for c in g[1])))
    return groups


# --- Profiles --------------------------------------------------------------------------------


def user_scores(*, user: Any) -> list[Score]:
    crowd = Prefetch(
        "question__scores",
        queryset=Score.objects.filter(user__isnull=True, crowd_method=DEFAULT_AGGREGATE),
        to_attr="crowd_scores",
    )
    return list(
        Score.objects.filter(user=user)
        .select_related("question", "question__resolved_option", "question__series")
        .prefetch_related(crowd)
        .order_by("-resolved_at", "question_id")
    )


def scored_series(*, user: Any) -> QuerySet[Series]:
    """The series in which the user has a scored question (the profile's calibration filter)."""
    return Series.objects.filter(questions__scores__user=user).distinct().order_by("title")


def user_recent_forecasts(*, user: Any, limit: int = 20) -> list[Forecast]:
    return list(Forecast.objects.filter(user=user).select_related("question").order_by("-created_at", "-id")[:limit])


# --- Strategic questions -----------------------------------------------------------------------

#: "What moved it" looks back this far from the composite's last point unless the reader chooses.
DEFAULT_SINCE = timedelta(days=90)


def axis_pct(composite: float | None) -> str | None:
    """Where a composite in [-1, 1] sits on the axis, as a CSS percentage from the left."""
    if composite is None:
        return None
    return f"{(max(-1.0, min(1.0, composite)) + 1) / 2 * 100:.1f}%"


def strategic_history_bounds(
    *, strategic_question: StrategicQuestion, now: datetime
) -> tuple[datetime, datetime] | None:
    """The first and last instants of the stored composite history up to now; None without one."""
    times = StrategicPoint.objects.filter(strategic_question=strategic_question, time__lte=now).order_by("time")
    first = times.values_list("time", flat=True).first()
    last = times.reverse().values_list("time", flat=True).first()
    return None if first is None else (first, last)


def strategic_default_since(*, strategic_question: StrategicQuestion, now: datetime) -> datetime | None:
    """The default start of "what moved it": DEFAULT_SINCE before the last point (midnight UTC of
    that day), not before the first point's day; None without a history."""
    bounds = strategic_history_bounds(strategic_question=strategic_question, now=now)
    if bounds is None:
        return None
    first, last = bounds
    day = max(last - DEFAULT_SINCE, first).date()
    return datetime(day.year, day.month, day.day, tzinfo=first.tzinfo)


def strategic_chart_data(*, body: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The composite's history as the chart script reads it (json_script): one point per change,
    the composite or null while no indicator has a value, held until the next point or now."""
    return {
        "points": [{"t": _ms(p["time"]), "c": p["composite"]} for p in body["history"]],
        "end": _ms(now),
        "since": _ms(body["since"]) if body.get("since") else None,
        "pole_less": body["pole_less"],
        "pole_more": body["pole_more"],
    }


def strategic_moved_rows(*, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The "what moved it" rows, each with a diverging bar: `left` and `width` as CSS percentages
    of a track whose middle is no change, scaled to the largest change. Indicators that did not
    move (to display precision) are left out."""
    moved = [m for m in body.get("moved") or [] if abs(m["change"]) >= 0.0005]
    indicators = {i["question"]: i for d in body["drivers"] for i in d["indicators"]}
    scale = max((abs(m["change"]) for m in moved), default=0.0) or 1.0
    rows = []
    for m in moved:
        width = abs(m["change"]) / scale * 50
        ind = indicators.get(m["question"], {})
        rows.append(
            {
                **m,
                "direction": ind.get("direction"),
                "resolution": ind.get("resolution"),
                "crowd_probability": ind.get("crowd_probability"),
                "left": f"{50 - width if m['change'] < 0 else 50:.1f}%",
                "width": f"{width:.1f}%",
            }
        )
    return rows


def strategic_drivers(*, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The body's drivers, each with `contribution`: its indicators' contributions now added up
    (None while none of them counts)."""
    out = []
    for driver in body["drivers"]:
        parts = [i["contribution"] for i in driver["indicators"] if i["contribution"] is not None]
        out.append({**driver, "contribution": sum(parts) if parts else None})
    return out


def strategic_history_table(*, body: dict[str, Any], limit: int = 500) -> list[dict[str, Any]]:
    """The composite's history for the table beside the chart, newest first (at most `limit`)."""
    return list(reversed(body["history"]))[:limit]


def article_strategic_questions(*, article: Article, user: Any) -> QuerySet[StrategicQuestion]:
    """The strategic questions (that the reader may see) with an indicator drawn from this article,
    annotated with their composite now."""
    linked = IndicatorLink.objects.filter(question__article=article).values("strategic_question_id")
    return strategy_selectors.strategic_question_list(user=user).filter(pk__in=linked)


def question_strategic_links(*, question: Question, user: Any) -> list[dict[str, Any]]:
    """The strategic questions (that the reader may see) a question is an indicator of, each with
    its driver and which pole a YES pushes towards."""
    visible = list(strategy_selectors.strategic_questions_of(question=question, user=user))
    links = {
        link.strategic_question_id: link
        for link in IndicatorLink.objects.filter(question=question, strategic_question__in=visible).select_related(
            "driver"
        )
    }
    out = []
    for sq in visible:
        link = links.get(sq.pk)
        if link is None:
            continue
        out.append(
            {
                "strategic_question": sq,
                "driver": link.driver.title,
                "direction": link.direction,
                "pole": sq.pole_more if link.direction > 0 else sq.pole_less,
                "binary": question.type == Question.Type.BINARY,
            }
        )
    return out
