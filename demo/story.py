"""The demo's story: the seed article in, its questions published, a simulated crowd replayed
from November 2021, resolutions through the real service and scoring jobs, then the results.

Everything goes through the same services as production (question_create, forecast_submit,
question_resolve, the Celery tasks, run eagerly without a broker)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from accounts.models import User
from accounts.services import user_create
from demo.simulation import make_crowd, questions_from_seed, simulate
from forecast_math import DEFAULT_AGGREGATE, parse_instant
from forecast_math.continuous import from_range_units, pit, quantile
from forecasts import services as forecast_services
from forecasts.models import CrowdPoint
from questions import articles as article_services
from questions import services as question_services
from questions.models import Article, Question, Series
from questions.seed import find_article, load_seed
from questions.selectors import continuous_outcome, outcome_text, value_text
from scoring.selectors import leaderboard_read
from strategy import selectors as strategy_selectors
from strategy import services as strategy_services
from strategy.history import strategic_recompute
from strategy.models import StrategicQuestion

#: The seed article's strategic question as data (drivers, indicator links by question slug).
STRATEGIC_FILE = Path(__file__).resolve().parent / "strategic.json"
#: The report's "what moved it" counts from here.
REPORT_SINCE = datetime(2024, 1, 1, tzinfo=UTC)


def _t(value: str | None) -> datetime | None:
    return parse_instant(value) if value else None


@dataclass
class DemoResult:
    series: Series
    article: Article | None
    created: bool
    questions: int = 0
    forecasts: int = 0
    resolved: int = 0
    kinds: dict[str, str] = field(default_factory=dict)
    strategic: list[StrategicQuestion] = field(default_factory=list)


def demo_load(*, seed: int = 2021, crowd_size: int = 36, log: Callable[[str], None] = print) -> DemoResult:
    """Load the seed series (idempotent: a second run loads nothing and reports what is there)."""
    data = load_seed()
    series_spec = data["series"][0]
    crowd = make_crowd(crowd_size, seed=seed)
    kinds = {f.username: f.kind for f in crowd}
    existing = Series.objects.filter(slug=series_spec["slug"]).first()
    if existing is not None:
        log(f"The seed series {existing.slug!r} is already loaded; showing it.")
        return DemoResult(
            series=existing,
            article=Article.objects.filter(sha256=data["article"]["sha256"]).first(),
            created=False,
            kinds=kinds,
            strategic=strategic_load(log=log),  # a database loaded before strategic questions gets them now
        )

    article = _ingest_article(data, log)
    series = question_services.series_create(
        slug=series_spec["slug"],
        title=series_spec["title"],
        description=series_spec.get("description", ""),
        scoring_mode=series_spec.get("scoring_mode", "continuous"),
    )
    by_slug: dict[str, Question] = {}
    for spec in data["questions"]:
        q = question_services.question_create(
            slug=spec["slug"],
            series=series,
            type=spec["type"],
            options=spec.get("options"),
            ordered=spec.get("ordered", False),
            title=spec["title"],
            description=spec.get("description", ""),
            resolution_criteria=spec.get("resolution_criteria", ""),
            open_time=_t(spec["open_time"]),
            close_time=_t(spec["close_time"]),
            crowd_reveal_time=_t(spec.get("crowd_reveal_time")),
            scoring_mode=spec.get("scoring_mode"),
            indicator=spec.get("indicator") or "",
            range_lower=spec.get("lower"),
            range_upper=spec.get("upper"),
            open_lower=spec.get("open_lower", False),
            open_upper=spec.get("open_upper", False),
            unit=spec.get("unit", ""),
        )
        if article is not None and spec.get("source"):
            src = spec["source"]
            article_services.question_link_source(
                question=q,
                article=article,
                start=src["start"],
                end=src["end"],
                passage_sha256=src.get("passage_sha256"),
            )
        by_slug[spec["slug"]] = q
    log(f"Published {len(by_slug)} questions in the series {series.slug!r}.")

    users = {}
    for f in crowd:
        users[f.username] = user_create(username=f.username, display_name=f.display_name, exists_ok=True)
    rows = simulate(questions_from_seed(data), crowd, seed=seed)
    n = 0
    for row in rows:
        q, user, at = by_slug[row["question"]], users[row["user"]], _t(row["time"])
        if row.get("withdraw"):
            forecast_services.forecast_withdraw(user=user, question=q, at=at)
        else:
            shape = next(key for key in ("probability", "probabilities", "cdf") if key in row)
            payload = {shape: row[shape]}
            forecast_services.forecast_submit(user=user, question=q, payload=payload, at=at)
        n += 1
    log(f"Replayed {n} forecasts by {len(users)} simulated forecasters, November 2021 on.")

    admin = _demo_admin()
    resolved = 0
    for spec in sorted(data["questions"], key=lambda s: s.get("resolved_at") or ""):
        if not spec.get("resolution"):
            continue
        question_services.question_resolve(
            question=by_slug[spec["slug"]],
            outcome=spec["resolution"],
            by=admin,
            known_at=_t(spec.get("known_at")),
            note=spec.get("resolution_note", ""),
            at=_t(spec.get("resolved_at")),
        )
        resolved += 1
    log(f"Resolved {resolved} questions through the resolution service; the scoring jobs ran.")
    # Linked only now: the composite's history is rebuilt wholesale from the crowd histories and
    # resolutions, so linking after the replay loses nothing and spares a recompute per forecast.
    strategic = strategic_load(log=log)
    return DemoResult(
        series=series,
        article=article,
        created=True,
        questions=len(by_slug),
        forecasts=n,
        resolved=resolved,
        kinds=kinds,
        strategic=strategic,
    )


def strategic_load(*, path: Path | str | None = None, log: Callable[[str], None] = print) -> list[StrategicQuestion]:
    """Create the strategic questions of `strategic.json` that are not there yet, through
    strategy.services, linking the seed questions it names by slug; then compute each new one's
    composite history once. Returns them all (existing ones as they are)."""
    with open(path or STRATEGIC_FILE, encoding="utf-8") as fh:
        specs = json.load(fh)["strategic_questions"]
    out: list[StrategicQuestion] = []
    for spec in specs:
        existing = StrategicQuestion.objects.filter(slug=spec["slug"]).first()
        if existing is not None:
            out.append(existing)
            continue
        slugs = [link["question"] for driver in spec["drivers"] for link in driver["indicators"]]
        ids = dict(Question.objects.filter(slug__in=slugs).values_list("slug", "pk"))
        missing = [slug for slug in slugs if slug not in ids]
        if missing:
            log(f"Strategic question {spec['slug']!r} not created: no seed question {', '.join(missing)}.")
            continue
        drivers = [
            {
                "title": driver["title"],
                "indicators": [
                    {
                        "question": ids[link["question"]],
                        "direction": link["direction"],
                        "weight": link.get("weight", 1.0),
                        "rationale": link.get("rationale", ""),
                    }
                    for link in driver["indicators"]
                ],
            }
            for driver in spec["drivers"]
        ]
        sq = strategy_services.strategic_question_create(
            slug=spec["slug"],
            title=spec["title"],
            description=spec.get("description", ""),
            pole_less=spec["pole_less"],
            pole_more=spec["pole_more"],
            drivers=drivers,
        )
        sq.refresh_from_db()
        if sq.computed_at is None:  # the job went to a broker (REDIS_URL set): compute it here
            strategic_recompute(strategic_question_id=sq.pk)
            sq.refresh_from_db()
        n_points = sq.points.count()
        log(
            f"Linked {len(slugs)} questions under {len(drivers)} drivers to the strategic question "
            f"{sq.title!r}; its composite history has {n_points} points."
        )
        out.append(sq)
    return out


def _ingest_article(data: dict, log: Callable[[str], None]) -> Article | None:
    path = find_article()
    if path is None:
        log("The seed article (shared/seed/article.txt) is not here: questions are published without their passages.")
        return None
    raw = path.read_bytes()
    if hashlib.sha256(raw).hexdigest() != data["article"]["sha256"]:
        log(f"{path} is not the article the seed series was written for (SHA-256 differs): skipping provenance.")
        return None
    meta = data["article"]
    article, _ = article_services.article_ingest(
        data=raw,
        filename=path.name,
        title=meta.get("title"),
        source_url=meta.get("source_url") or "",
        published=date.fromisoformat(meta["published"]) if meta.get("published") else None,
    )
    log(f"Ingested the article {article.title!r}: {article.candidates.count()} candidate questions found.")
    return article


def _demo_admin() -> User:
    return user_create(
        username="admin",
        password="signpost-demo",
        display_name="Demo admin",
        is_staff=True,
        is_superuser=True,
        exists_ok=True,
    )


def _crowd_final(q: Question) -> list[float] | None:
    """The crowd (median) standing at the question's close."""
    point = (
        CrowdPoint.objects.filter(question=q, method=DEFAULT_AGGREGATE, time__lt=q.effective_close)
        .order_by("-time")
        .first()
    )
    return point.probabilities if point else None


def demo_report(result: DemoResult, *, top: int = 12) -> str:
    lines: list[str] = []
    board = leaderboard_read(scope="series", series=result.series, limit=top)
    lines.append("")
    lines.append(
        f"Series leaderboard: {result.series.title}  (ranked by the sum of relative Brier; lower is better; Brier on the 0..2 scale; "
        "relative CRPS, in range units, is the numeric and date questions' own figure, never added to it)"
    )
    header = f"{'rank':>4}  {'forecaster':<28} {'kind':<15} {'questions':>9} {'rel. Brier sum':>14} {'rel. CRPS sum':>13} {'mean Brier':>10} {'peer sum':>9}"
    lines.append(header)
    lines.append("-" * len(header))
    for e in board["entries"]:
        name = e["user"]["name"]
        kind = result.kinds.get(_username(e["user"]["id"]), "")
        lines.append(
            f"{e['rank']:>4}  {name[:28]:<28} {kind:<15} {e['questions']:>9} {e['relative_brier_sum']:>14.4f} {e['relative_crps_sum']:>13.4f} "
            f"{_f(e['brier_mean']):>10} {e['peer_sum']:>9.1f}"
        )
    c = board.get("crowd")
    if c:
        lines.append(
            f"{'':>4}  {'Crowd (median, benchmark)':<28} {'':<15} {c['questions']:>9} {c['relative_brier_sum']:>14.4f} {c['relative_crps_sum']:>13.4f} "
            f"{_f(c['brier_mean']):>10} {c['peer_sum']:>9.1f}"
        )
    lines.append(f"({board['count']} ranked forecasters)")

    lines.append("")
    lines.append("What the crowd said, and what happened (crowd median at close, per indicator):")
    questions = sorted(
        Question.objects.filter(series=result.series).select_related("resolved_option").prefetch_related("options"),
        key=lambda q: (q.indicator == "", q.indicator, q.id),  # the article's indicators first, the rest after
    )
    current = None
    for q in questions:
        if q.indicator != current:
            current = q.indicator
            lines.append("")
            lines.append(f"  {current or 'Other questions'}")
        crowd = _crowd_final(q)
        said = _say(q, crowd)
        outcome = {"resolved": outcome_text(q).upper(), "annulled": "ANNULLED"}.get(q.state, "open")
        verdict = _verdict(q, crowd)
        lines.append(f"    - {q.title}")
        lines.append(f"        crowd: {said:<34} outcome: {outcome:<8} {verdict}")
    for sq in result.strategic:
        lines += strategic_report(sq)
    return "\n".join(lines)


def strategic_report(sq: StrategicQuestion, *, since: datetime = REPORT_SINCE, top: int = 6) -> list[str]:
    """A strategic question in text: its composite now on the axis between its poles, the
    composite at the start of each year, and the indicators that moved it most since `since`."""
    body = strategy_selectors.strategic_question_detail(strategic_question=sq, since=since)
    indicators = [i for d in body["drivers"] for i in d["indicators"]]
    lines = ["", f"Strategic question: {body['title']}"]
    lines.append(
        f"  {len(indicators)} indicator questions under {len(body['drivers'])} drivers; the composite runs from "
        f"-1 ({body['pole_less']}) to +1 ({body['pole_more']})."
    )
    c = body["composite"]
    lines.append("")
    lines.append(f"  {body['pole_less']}  {axis_bar(c)}  {body['pole_more']}")
    lines.append(f"  Composite now: {_signed(c)}{_leaning(c, body)}.")
    history = [(p["time"], p["composite"]) for p in body["history"] if p["composite"] is not None]
    if history:
        marks = [history[0][0]] + [
            datetime(y, 1, 1, tzinfo=UTC) for y in range(history[0][0].year + 1, history[-1][0].year + 1)
        ]
        at = [f"{t:%Y-%m-%d} {_signed(_composite_at(history, t))}" for t in marks]
        lines.append(f"  Over time: {';  '.join(at)};  now {_signed(c)}.")
    lines.append("")
    moved = [m for m in body["moved"] or [] if abs(m["change"]) >= 0.0005]
    lines.append(
        f"  What moved it most since {since:%Y-%m-%d} (composite {_signed(body['composite_since'])} -> {_signed(c)}); "
        "each indicator's change of signed contribution:"
    )
    by_id = {i["question"]: i for i in indicators}
    for m in moved[:top]:
        ind = by_id[m["question"]]
        if ind["resolution"]:
            state = f"resolved {ind['resolution'].upper()}"
        elif ind["crowd_probability"] is not None:
            state = f"crowd {ind['crowd_probability'] * 100:.0f}% yes"
        else:
            state = "no crowd shown"
        lines.append(f"    {_signed(m['change'], 3):>6}  {m['title']}  (direction {ind['direction']:+d}, {state})")
    if len(moved) > top:
        rest = sum(m["change"] for m in moved[top:])
        lines.append(f"    {_signed(rest, 3):>6}  the {len(moved) - top} other indicators together")
    if not moved:
        lines.append("    nothing: no indicator's contribution changed")
    return lines


def axis_bar(composite: float | None, width: int = 41) -> str:
    """The composite on a text axis from -1 to +1: `|` marks 0 and `*` the composite."""
    cells = ["-"] * width
    cells[width // 2] = "|"
    if composite is not None:
        cells[round((max(-1.0, min(1.0, composite)) + 1) / 2 * (width - 1))] = "*"
    return "[" + "".join(cells) + "]"


def _composite_at(history: list[tuple[datetime, float | None]], t: datetime) -> float | None:
    value = None
    for time, composite in history:
        if time > t:
            break
        value = composite
    return value


def _signed(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:+.{digits}f}"


def _leaning(c: float | None, body: dict) -> str:
    if c is None:
        return " (no indicator has a value yet)"
    if abs(c) < 0.05:
        return ", about halfway between the poles"
    return f", towards {body['pole_more'] if c > 0 else body['pole_less']!r}"


def _username(user_id: int) -> str:
    return User.objects.filter(pk=user_id).values_list("username", flat=True).first() or ""


def _f(x: Any) -> str:
    return "-" if x is None else f"{x:.3f}"


def _say(q: Question, crowd: list[float] | None) -> str:
    if crowd is None:
        return "no forecasts"
    if q.is_continuous:
        lo, mid, hi = (
            value_text(q, from_range_units(quantile(crowd, p), q.range_lower, q.range_upper), approximate=True)
            for p in (0.25, 0.5, 0.75)
        )
        return f"median {mid} ({lo} to {hi})"
    labels = [o.label for o in q.options.all()]
    if q.type == "binary":
        return f"{crowd[0] * 100:.0f}% yes"
    best = max(range(len(labels)), key=lambda i: crowd[i])
    return f"{crowd[best] * 100:.0f}% {labels[best][:26]}"


def _verdict(q: Question, crowd: list[float] | None) -> str:
    if q.is_continuous and crowd is not None and q.state == "resolved":
        outcome = continuous_outcome(q)
        inside = 0.25 <= pit(crowd, outcome.x) <= 0.75
        return "(inside the crowd's middle half)" if inside else "(outside the crowd's middle half)"
    if crowd is None or not q.resolved_option_id:
        return ""
    labels = [o.label for o in q.options.all()]
    p_true = crowd[labels.index(q.resolved_option.label)]
    return "(crowd right)" if p_true > 0.5 or (len(labels) > 2 and p_true == max(crowd)) else "(crowd wrong)"
