"""Find forecastable open questions in an article and draft them.

Pure Python, standard library only, deterministic: the same bytes and
arguments always give the same candidates. No Django, no network.

Pipeline: :func:`load_document` (bytes -> :class:`Document`), then
:func:`extract_candidates` which segments the text (sections, paragraphs,
sentences with exact offsets), detects passages that pose open questions,
drafts a question for each, scores, merges duplicates and sorts them. A
passage that names a quantity or a date to watch ("how many refugees ...",
"trade between X and Y could reach $50 billion", "when the embassy reopens")
gets a numeric or date draft with a range (numeric.py); a passage that asks a
yes/no question keeps its binary draft.
:func:`propose_strategic` then finds the article's strategic question (its
thesis) and which candidates are its indicators; :func:`lint_question` flags
what would make a question hard to resolve.

Close dates: ``(doc.published or as_of or the latest date the article itself
mentions or FALLBACK_DATE) + horizon_days``. The third step is an extension of
the documented contract: an undated article is usually written shortly after
the last event it dates, which is a better guess than a fixed day.
"""

from __future__ import annotations

import datetime

from .clause import SOURCE_KIND
from .detect import Hit, detect, group_hits
from .draft import build_draft
from .draft import quality as _q
from .figures import format_number
from .lint import LINT_CODES, LintFinding, lint_question
from .model import CandidateQuestion, Document, Draft, ExtractionInputError
from .numeric import PassageText, quantity_draft
from .rank import MIN_SCORE, Scored, event_signature, merge, score_hit
from .segment import segment
from .strategic import DriverProposal, IndicatorProposal, StrategicProposal, propose_strategic, render_strategic
from .text import latest_mentioned_date, load_document, parse_date

__all__ = [
    "CandidateQuestion",
    "DEFAULT_HORIZON_DAYS",
    "Document",
    "Draft",
    "DriverProposal",
    "ExtractionInputError",
    "FALLBACK_DATE",
    "IndicatorProposal",
    "LINT_CODES",
    "LintFinding",
    "StrategicProposal",
    "extract_candidates",
    "lint_candidate",
    "lint_question",
    "load_document",
    "parse_date",
    "propose_strategic",
    "reference_date",
    "render_strategic",
    "render_table",
]

DEFAULT_HORIZON_DAYS = 1461  # four years, leap day included
FALLBACK_DATE = datetime.date(2020, 1, 1)


def reference_date(doc: Document, as_of: datetime.date | None = None) -> datetime.date:
    """The day questions open: published date, else ``as_of``, else the latest
    date mentioned in the text, else :data:`FALLBACK_DATE`."""
    return doc.published or as_of or latest_mentioned_date(doc.text) or FALLBACK_DATE


def extract_candidates(
    doc: Document,
    *,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    as_of: datetime.date | None = None,
    limit: int | None = None,
) -> list[CandidateQuestion]:
    """Candidate questions, best first. ``doc.text[c.start:c.end] == c.passage``."""
    if horizon_days < 1:
        raise ValueError("horizon_days must be at least 1")
    open_date = reference_date(doc, as_of)
    close_date = open_date + datetime.timedelta(days=horizon_days)
    seg = segment(doc)
    body_len = max(1, len(doc.text) - doc.body_start)
    scored: list[Scored] = []
    for hit in group_hits(detect(seg)):
        where = dict(
            open_date=open_date, close_date=close_date, section=hit.paragraph.section, start=hit.start, end=hit.end
        )
        built = quantity_draft(_passage_text(doc.text, hit), props=hit.props, options=hit.options, **where)
        if built is None:
            built = build_draft(props=hit.props, options=hit.options, **where)
        if built is None:
            continue
        draft, quality = built
        prop = None
        if draft.type == "binary":
            prop = max(hit.props, key=lambda p: (_q(p), -hit.props.index(p)))
            if hit.kind != "indicator":
                hit.kind = SOURCE_KIND.get(prop.source, hit.kind)
        s = score_hit(
            hit, quality, body_start=doc.body_start, body_len=body_len, multiple_choice=draft.type == "multiple_choice"
        )
        if draft.type == "multiple_choice":
            prop = hit.options[0]
        stems, subjects = event_signature(prop, draft)
        scored.append(
            Scored(
                hit=hit,
                draft=draft,
                prop=prop,
                score=s,
                stems=stems,
                subjects=subjects,
            )
        )
    kept = [c for c in merge(scored) if c.score >= MIN_SCORE]
    kept.sort(key=lambda c: (-round(c.score, 3), c.hit.start))
    out = [
        CandidateQuestion(
            start=c.hit.start,
            end=c.hit.end,
            passage=doc.text[c.hit.start : c.hit.end],
            section=c.hit.paragraph.section,
            kind=c.hit.kind,
            score=round(max(0.0, min(1.0, c.score)), 3),
            draft=c.draft,
            related=tuple(sorted(set(c.related))),
        )
        for c in kept
    ]
    return out[:limit] if limit is not None else out


def _passage_text(text: str, hit: Hit) -> PassageText:
    """The hit's sentences, and the rest of its paragraph, for the numeric drafter."""
    spans = hit.paragraph.sentences
    inside = [text[s.start : s.end] for s in spans if hit.start <= s.start and s.end <= hit.end]
    return PassageText(
        sentences=inside or [text[hit.start : hit.end]],
        before=[text[s.start : s.end] for s in spans if s.end <= hit.start],
        after=[text[s.start : s.end] for s in spans if s.start >= hit.end],
        watch=hit.paragraph.watch and hit.start == hit.paragraph.start and hit.end == hit.paragraph.end,
    )


def lint_candidate(cand: CandidateQuestion, *, existing_titles=()) -> list[LintFinding]:
    """:func:`lint_question` on a candidate's draft."""
    d = cand.draft
    return lint_question(
        d.title,
        resolution_criteria=d.resolution_criteria,
        close_time=d.close_time,
        options=d.options,
        existing_titles=existing_titles,
    )


def render_table(cands: list[CandidateQuestion]) -> str:
    """A plain-text table: rank, score, kind, offsets, section and title, with a multiple-choice
    draft's options and a numeric or date draft's range on the lines below."""
    if not cands:
        return "No candidate questions found."
    rows = []
    for i, c in enumerate(cands, 1):
        section = c.section if len(c.section) <= 28 else c.section[:27] + "…"
        rows.append((str(i), f"{c.score:.2f}", c.kind, f"{c.start}-{c.end}", section, c.draft.title))
    heads = ("#", "score", "kind", "offsets", "section", "draft title")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(heads[:-1])]
    lines = ["  ".join(h.ljust(w) for h, w in zip(heads[:-1], widths, strict=True)) + "  " + heads[-1]]
    lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 11)
    for r in rows:
        lines.append("  ".join(v.ljust(w) for v, w in zip(r[:-1], widths, strict=True)) + "  " + r[-1])
        c = cands[int(r[0]) - 1]
        indent = " " * (sum(widths) + 2 * len(widths))
        if c.draft.type == "multiple_choice":
            for opt in c.draft.options:
                lines.append(f"{indent}  - {opt}")
        elif c.draft.is_continuous:
            lines.append(f"{indent}  {_range_line(c.draft)}")
    return "\n".join(lines)


def _range_line(d: Draft) -> str:
    """ "range 20 to 100 USD bn, open below and above" / "range 2024-03-03 to 2030-03-03, open above"."""
    if d.type == "date":
        lo, hi = str(d.lower)[:10], str(d.upper)[:10]
    else:
        lo, hi = format_number(float(d.lower)), format_number(float(d.upper))
    unit = f" {d.unit}" if d.unit else ""
    opened = [side for side, is_open in (("below", d.open_lower), ("above", d.open_upper)) if is_open]
    bounds = f", open {' and '.join(opened)}" if opened else ", closed"
    return f"{d.type} range {lo} to {hi}{unit}{bounds}"
