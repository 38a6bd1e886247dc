"""Scoring passages by how forecastable they are, and merging passages that
are about the same event."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .clause import Prop, entities, entity_key
from .detect import Hit
from .lexicon import content_stems, stem
from .model import Draft

KIND_BASE = {
    "indicator": 0.40,
    "conditional": 0.34,
    "explicit_question": 0.32,
    "proposal": 0.31,
    "open_issue": 0.30,
}
WATCH_BONUS = 0.18
ENUMERATED_BONUS = 0.04
OPENING_QUESTION_BONUS = 0.10
QUOTED_PENALTY = 0.15
DUPLICATE_BONUS = 0.03
MIN_SCORE = 0.40


@dataclass
class Scored:
    hit: Hit
    draft: Draft
    prop: Prop | None
    score: float
    stems: set[str]
    subjects: frozenset[str]
    related: list[tuple[int, int]] = field(default_factory=list)


def score_hit(hit: Hit, quality: float, *, body_start: int, body_len: int, multiple_choice: bool) -> float:
    s = KIND_BASE[hit.kind] + 0.12 * hit.strength + 0.30 * quality
    if hit.paragraph.watch:
        s += WATCH_BONUS
        if hit.paragraph.enumerated:
            s += ENUMERATED_BONUS
    if hit.kind == "explicit_question" and not hit.quoted and body_len:
        position = (hit.start - body_start) / body_len
        if position < 0.15:
            s += OPENING_QUESTION_BONUS
    if hit.quoted:
        s -= QUOTED_PENALTY
    if multiple_choice:
        s += 0.03
    return s


def event_signature(prop: Prop | None, draft: Draft) -> tuple[set[str], frozenset[str]]:
    text = prop.question_body() if prop else re.sub(r"\bby \d{4}-\d{2}-\d{2}\b", "", draft.title)
    subjects = frozenset(entity_key(e) for e in entities(prop.subject)) if prop else frozenset()
    return content_stems(text), subjects


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def same_event(a: Scored, b: Scored) -> bool:
    """Same actors doing much the same thing. Different actors ("Russia
    recognises X" versus "Russia and China jointly recognise X") are different
    events unless the wording is almost identical."""
    j = _jaccard(a.stems, b.stems)
    if a.subjects and b.subjects and a.subjects != b.subjects:
        return j >= 0.85
    if j >= 0.6:
        return True
    return bool(
        a.prop
        and b.prop
        and a.subjects
        and a.subjects == b.subjects
        and stem(a.prop.verb) == stem(b.prop.verb)
        and j >= 0.34
    )


def merge(scored: list[Scored]) -> list[Scored]:
    """Greedy, best first: a passage about an event already kept is folded
    into the kept one (its span recorded in ``related``)."""
    kept: list[Scored] = []
    for cand in sorted(scored, key=lambda c: (-c.score, c.hit.start)):
        for k in kept:
            overlap = cand.hit.start < k.hit.end and k.hit.start < cand.hit.end
            if overlap or same_event(k, cand):
                k.related.append((cand.hit.start, cand.hit.end))
                k.related.extend(cand.related)
                break
        else:
            kept.append(cand)
    for k in kept:
        k.score += DUPLICATE_BONUS * min(3, len(k.related))
    return kept
