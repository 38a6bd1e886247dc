"""Turn a detected passage into a draft question: title, type, options,
resolution-criteria outline and close time."""

from __future__ import annotations

import datetime
import re

from .clause import Prop, entities, entity_key, has_demonstrative
from .lexicon import ABSTRACT, CONCRETE_VERBS
from .model import Draft

OTHER_OPTION = "Other / neither"
_VAGUE = (
    "greater",
    "closer",
    "deeper",
    "deepen",
    "expand",
    "strengthen",
    "cooperation",
    "coordination",
    "engagement",
    "role",
    "support",
    "significant",
    "major",
    "substantial",
    "jointly",
    "presence",
    "influence",
    "leverage",
    "position",
)
_WEAK_VERBS = {"be", "have", "pursue", "gain", "lead", "pave", "seem", "appear", "play", "provide"}
MAX_TITLE = 170
#: What confirms an event, in every drafted question's criteria.
EVIDENCE = (
    "an official statement by a government or body involved, or credible reporting by at "
    "least two independent established news outlets"
)


def _base_of(prop: Prop) -> str:
    v = prop.verb
    if prop.passive or prop.perfect:
        for cand in (v[:-1], v[:-2], v[:-3] + "y" if v.endswith("ied") else "", v):
            if cand in CONCRETE_VERBS:
                return cand
    return v


def quality(prop: Prop) -> float:
    """How well the proposition would serve as a resolvable question, 0..1."""
    body = prop.question_body()
    words = re.findall(r"[A-Za-z]+", body.lower())
    q = 0.5
    if _base_of(prop) in CONCRETE_VERBS:
        q += 0.18
    if _base_of(prop) in _WEAK_VERBS:
        q -= 0.1
    names = {entity_key(e) for e in entities(body)}
    q += 0.06 * min(3, len(names))
    q -= 0.06 * min(4, sum(1 for w in words if w in ABSTRACT))
    if prop.subject.lower() == "there":
        q -= 0.15
    if has_demonstrative(body) or re.search(r"\b(this|that|it|they|them)\b", prop.subject, re.I):
        q -= 0.2
    if len(body) > 150:
        q -= 0.1
    if len(body) > 220:
        q -= 0.1
    if len(words) < 4:
        q -= 0.15
    return max(0.0, min(1.0, q))


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s


def shorten(body: str, limit: int) -> str:
    if len(body) <= limit:
        return body
    for marker in (
        ", which ",
        ", who ",
        " — ",
        ", although ",
        ", though ",
        ", while ",
        ", including ",
        ", as ",
        ", and ",
        ", or ",
        ", ",
    ):
        i = body.find(marker, 40)
        if 0 < i <= limit:
            return body[:i]
    cut = body[:limit].rsplit(" ", 1)[0]
    return re.sub(r"\s+\S*$", "", cut) if len(cut.split()) > 8 else cut


def _title_binary(prop: Prop, date: str) -> str:
    body = shorten(prop.question_body(), MAX_TITLE - len(date) - 10)
    return f"Will {body} by {date}?"


def _predicate(prop: Prop) -> str:
    parts = [prop.adverb, prop.verb, prop.rest]
    return " ".join(p for p in parts if p)


def _shared_place(options: list[Prop]) -> str | None:
    texts = [o.question_body() for o in options]
    for name in entities(texts[0]):
        if name in options[0].subject:
            continue
        if all(re.search(rf"\b(?:in|with|on)\s+(?:the\s+)?{re.escape(name)}\b", t) for t in texts):
            return name
    return None


def _option_labels(options: list[Prop]) -> tuple[list[str], str | None]:
    subjects = {o.subject for o in options}
    if len(subjects) == 1 and not options[0].passive:
        subject = options[0].subject
        labels = [_cap(shorten(_predicate(o), 140)) for o in options]
        return labels, subject
    return [_cap(shorten(o.statement(), 140)) for o in options], None


def terms_note(statement: str) -> str:
    for name in sorted(entities(statement), key=len, reverse=True):
        statement = statement.replace(name, " ")
    found = [w for w in _VAGUE if re.search(rf"\b{w}\b", statement, re.I)]
    if not found:
        return ""
    quoted = ", ".join(f"“{w}”" for w in found[:4])
    return f" Before publishing, say what counts as {quoted} (for example, a signed agreement, an announced deployment or an official statement)."


def source_note(section: str, start: int, end: int) -> str:
    where = f" in “{section}”" if section else ""
    return f" Source: the article's passage{where}, characters {start}–{end}."


def build_draft(
    *,
    props: list[Prop],
    options: list[Prop],
    open_date: datetime.date,
    close_date: datetime.date,
    section: str,
    start: int,
    end: int,
) -> tuple[Draft, float] | None:
    """The best draft for a passage and its quality (0..1), or None when no
    proposition could be read from it."""
    date = close_date.isoformat()
    close_time = f"{date}T00:00:00Z"
    window = f"between {open_date.isoformat()} and {date}"
    if len(options) >= 2:
        labels, subject = _option_labels(options[:3])
        if len(set(labels)) == len(labels):
            place = _shared_place(options[:3])
            where = f" in {place}" if place else ""
            if subject:
                listed = ", or ".join(_predicate(o) for o in options[:3])
                title = f"Which will {subject} do first{where} by {date}: {listed}?"
                if len(title) > MAX_TITLE:
                    title = f"Which of these will {subject} do first{where} by {date}?"
            else:
                title = f"Which of these will happen first{where} by {date}?"
            letters = "ABC"
            listed = "; ".join(f"({letters[i]}) {o.statement()}" for i, o in enumerate(options[:3]))
            criteria = (
                f"Resolves to the first of these to be confirmed {window} by {EVIDENCE}: {listed}. "
                f"If two are first confirmed on the same day, resolves to the one listed first. "
                f"Resolves “{OTHER_OPTION}” if none is confirmed by {date}."
                + terms_note(listed)
                + source_note(section, start, end)
            )
            q = min(quality(o) for o in options[:3]) + 0.05
            return Draft(
                title=title,
                type="multiple_choice",
                options=labels + [OTHER_OPTION],
                resolution_criteria=criteria,
                close_time=close_time,
            ), min(1.0, q)
    if not props:
        return None
    prop = max(props, key=lambda p: (quality(p), -props.index(p)))
    statement = prop.statement()
    criteria = (
        f"Resolves YES if, {window}, {EVIDENCE} confirms that {statement}. "
        f"Resolves NO if this has not been confirmed by {date}. Proposals, talks or statements of "
        f"intent alone do not count." + terms_note(statement) + source_note(section, start, end)
    )
    return Draft(
        title=_title_binary(prop, date), type="binary", options=[], resolution_criteria=criteria, close_time=close_time
    ), quality(prop)
