"""A question linter: what would make a forecasting question hard to resolve.

Pure Python, deterministic. :func:`lint_question` returns findings, each with a stable ``code``
(one of :data:`LINT_CODES`) and a one-line message for people:

- ``no_deadline``: no dated deadline in the title or criteria ("by 2026-12-31", "before
  March 2027", "by the end of 2026") and no close time given;
- ``no_actor``: the title names no one (no country, organisation or person);
- ``no_observable``: the title has no concrete event (a verb such as sign, recognise, deploy,
  resign), no number or threshold, and asks for no measured quantity ("How many troops ...",
  "What will the value of trade ... be in 2028?": a numeric question's quantity is observable);
- ``no_source``: the criteria do not say where the answer will be found ("according to",
  "as reported by", an official statement or record, a named organisation or outlet, a URL);
- ``vague_words``: words that two readers would resolve differently ("significant", "soon"...);
- ``near_duplicate``: the title is close to an existing question's (shared word stems, with a
  stricter bar when the two name different actors).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .clause import entities, entity_key
from .lexicon import (
    CALENDAR_WORDS,
    CONCRETE_VERBS,
    MEASURE_HEADS,
    NOUN_VERB,
    QUANTITY_NOUNS,
    base_form,
    content_stems,
)

LINT_CODES = ("no_deadline", "no_actor", "no_observable", "no_source", "vague_words", "near_duplicate")
#: Word-stem Jaccard similarity from which two titles are near-duplicates...
DUPLICATE_THRESHOLD = 0.6
#: ... and the bar when the two titles name different actors (a different event, usually).
DUPLICATE_THRESHOLD_OTHER_ACTORS = 0.85
MAX_DUPLICATES = 3


@dataclass(frozen=True)
class LintFinding:
    code: str  # one of LINT_CODES
    message: str

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


# --- Deadlines -------------------------------------------------------------------------------

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|"
    r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_YEAR = r"(?:19|20)\d{2}(?![-/]\d)"
_DATE = re.compile(
    rf"\b(?:19|20)\d{{2}}-\d{{2}}-\d{{2}}\b|\b\d{{1,2}}/\d{{1,2}}/{_YEAR}\b|"
    rf"\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+{_YEAR}\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}\s+{_YEAR}\b|"
    rf"\b{_MONTH}\s+{_YEAR}\b|\bQ[1-4]\s+{_YEAR}\b|"
    rf"\b(?:by|before|until|till|through|in|during|within|end\s+of|close\s+of)\s+(?:the\s+(?:end|close)\s+of\s+)?"
    rf"(?:(?:the\s+)?(?:first|second|third|fourth|last)\s+(?:half|quarter)\s+of\s+)?{_YEAR}\b",
    re.I,
)

# --- Actors ----------------------------------------------------------------------------------

_NOT_NAMES = CALENDAR_WORDS | {
    "yes",
    "no",
    "other",
    "neither",
    "q1",
    "q2",
    "q3",
    "q4",
}

# --- Observable events -----------------------------------------------------------------------

_PARTICIPLES = {
    "held",
    "built",
    "won",
    "lost",
    "met",
    "left",
    "sent",
    "set",
    "cut",
    "shut",
    "paid",
    "lent",
    "begun",
    "began",
    "fell",
    "fallen",
    "rose",
    "risen",
    "struck",
    "sold",
    "bought",
    "chosen",
    "elected",
    "signed",
    "found",
    "founded",
}
_NUMBER_WORDS = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|"
    r"thousand|million|billion|trillion|dozen|half|double|triple|percent|per\s+cent)\b|%|"
    r"\b(?:at\s+least|at\s+most|more\s+than|fewer\s+than|less\s+than|above|below|exceeds?|over|under)\s+\$?\d",
    re.I,
)

_QUANTITY_QUESTION = re.compile(
    r"^\s*(how\s+many|how\s+much|what\s+(?:share|proportion|percentage|fraction)\s+of|what\s+will)\b", re.I
)

# --- Sources ---------------------------------------------------------------------------------

_SOURCE = re.compile(
    r"\baccording\s+to\b|\bas\s+reported\s+(?:by|in|on)\b|\breport(?:ed|s|ing)?\s+(?:by|in|on|from)\b|"
    r"\bpublished\s+(?:by|in|on)\b|\bannounced\s+(?:by|in|on)\b|\bstatements?\s+(?:by|from|of)\b|"
    r"\bdata\s+(?:from|published)\b|\bas\s+(?:listed|recorded|shown|stated|posted)\s+(?:by|in|on)\b|"
    r"\bofficial\s+(?:statement|announcement|record|records|data|figures|gazette|website|register|results|"
    r"list|journal|publication)s?\b|\bwebsite\b|\bgazette\b|\bregister\b|\bdatabase\b|\bpress\s+release\b|"
    r"\bhttps?://\S+|\bwww\.\S+|\b[a-z0-9-]+\.(?:org|com|gov|int|net|edu|eu|un)\b",
    re.I,
)
_ORG_WORDS = (
    r"Organi[sz]ation|Bank|Fund|Agency|Office|Ministry|Commission|Council|Court|Institute|Bureau|Department|"
    r"Authority|Committee|Parliament|Assembly|Secretariat|Union|Board|Service|Statistics|Survey|Registry|"
    r"Times|Post|Journal|News|Gazette|Press|Tribune|Herald|Guardian|Economist|Reuters|Bloomberg"
)
_ORG = re.compile(
    rf"\b(?:[A-Z][\w&'’.-]*\s+){{0,5}}(?:{_ORG_WORDS})\b|\b(?:Reuters|Bloomberg|Associated Press|AFP|BBC|CNN|"
    rf"Xinhua|TASS|Al Jazeera|Politico|Axios|Wikipedia)\b"
)
_ACRONYM = re.compile(r"\b[A-Z]{2,}[A-Za-z]*\b|\b(?:[A-Z]\.){2,}")
_NOT_ACRONYMS = {"YES", "NO", "OR", "AND", "UTC", "ISO", "GMT", "TBD", "NB", "OK"}

# --- Vague words -----------------------------------------------------------------------------

VAGUE_WORDS = (
    "significant",
    "significantly",
    "likely",
    "unlikely",
    "probably",
    "soon",
    "shortly",
    "eventually",
    "major",
    "substantial",
    "substantially",
    "considerable",
    "considerably",
    "meaningful",
    "meaningfully",
    "serious",
    "seriously",
    "dramatic",
    "dramatically",
    "sizeable",
    "sizable",
    "notable",
    "massive",
    "huge",
    "sharp",
    "sharply",
    "rapid",
    "rapidly",
    "strong",
    "strongly",
    "greater",
    "closer",
    "deeper",
    "better",
    "worse",
    "widespread",
    "large-scale",
    "relatively",
    "fairly",
    "somewhat",
    "in the near future",
    "any time soon",
    "near term",
)
_VAGUE = re.compile(r"(?<![\w-])(" + "|".join(re.escape(w) for w in VAGUE_WORDS) + r")(?![\w-])", re.I)


# --- Rules -----------------------------------------------------------------------------------


def has_deadline(*texts: str) -> bool:
    """Whether any text states a calendar deadline (a date, a month and year, "by 2026")."""
    return any(_DATE.search(t or "") for t in texts)


def named_actors(title: str) -> list[str]:
    """The names in a title: countries (demonyms included), organisations, people, acronyms."""
    out = []
    for name in entities(title):
        key = entity_key(name)
        words = [w for w in key.split() if w not in _NOT_NAMES]
        if words and key not in _NOT_NAMES and not re.fullmatch(r"[\d\s./-]+", key):
            out.append(name)
    return out


def _option_clause(option: str) -> str:
    """An option label as a clause: "Leave the city ..." -> "leave the city ..." (a capital that
    only marks the label's start is no name)."""
    first = option.split(" ", 1)[0]
    if base_form(first.lower().rsplit("-", 1)[-1]):
        return first.lower() + option[len(first) :]
    return option


def _strip_dates(text: str) -> str:
    return _DATE.sub(" ", text)


def asks_quantity(title: str) -> bool:
    """A numeric question about something counted or measured: "How many troops ...", "What will
    the value of trade ... be", "What share of ...", "How much aid ..." (not "How much influence")."""
    m = _QUANTITY_QUESTION.match(title)
    if not m:
        return False
    if m[1].lower().startswith(("how many", "what share", "what proportion", "what percentage", "what fraction")):
        return True
    words = {w.lower() for w in re.findall(r"[A-Za-z]+", title)}
    return bool(words & (MEASURE_HEADS | set(QUANTITY_NOUNS)))


def has_observable(title: str) -> bool:
    """A concrete verb ("sign", "recognised", "withdrawal"), a number or a threshold, or a
    quantity asked for ("How many troops ...", "What will the value of trade ... be")."""
    plain = _strip_dates(title)
    if re.search(r"\d", plain) or _NUMBER_WORDS.search(plain) or asks_quantity(plain):
        return True
    for raw in re.findall(r"[A-Za-z]+", plain.lower()):
        if raw in NOUN_VERB or raw in _PARTICIPLES:
            return True
        stems = {raw, raw[:-1], raw[:-2], raw[:-3], raw[:-3] + "e", raw[:-1] if raw.endswith("d") else ""}
        if raw.endswith(("ies", "ied")):
            stems.add(raw[:-3] + "y")
        if raw.endswith("ing") and len(raw) > 5 and raw[-4] == raw[-5]:
            stems.add(raw[:-4])  # "setting" -> "set"
        if raw.endswith("ed") and len(raw) > 4 and raw[-3] == raw[-4]:
            stems.add(raw[:-3])  # "banned" -> "ban"
        if stems & CONCRETE_VERBS:
            return True
    return False


def has_source(criteria: str) -> bool:
    """Whether the criteria say where the answer will be found."""
    if not criteria.strip():
        return False
    if _SOURCE.search(criteria) or _ORG.search(criteria):
        return True
    return any(m[0].replace(".", "") not in _NOT_ACRONYMS for m in _ACRONYM.finditer(criteria))


def vague_words(*texts: str) -> list[str]:
    """The vague words used, lower case, in order of first use, once each."""
    found: list[str] = []
    for text in texts:
        for m in _VAGUE.finditer(text or ""):
            word = " ".join(m[1].lower().split())
            if word not in found:
                found.append(word)
    return found


def _signature(title: str) -> tuple[set[str], frozenset[str]]:
    plain = _strip_dates(title)
    plain = re.sub(r"^\s*(?:will|which|what|who|when|how|is|are|does|do|can|has|have)\b", "", plain, flags=re.I)
    stems = {s for s in content_stems(plain) if not s.isdigit()}
    return stems, frozenset(entity_key(e) for e in named_actors(plain))


def title_similarity(a: str, b: str) -> float:
    """Jaccard similarity of the two titles' content-word stems (dates and question words left
    out), 0..1."""
    sa, _ = _signature(a)
    sb, _ = _signature(b)
    if not sa or not sb:
        return 1.0 if " ".join(a.lower().split()) == " ".join(b.lower().split()) else 0.0
    return len(sa & sb) / len(sa | sb)


def near_duplicates(title: str, existing: Iterable[str]) -> list[tuple[str, float]]:
    """Existing titles close to ``title``, most similar first (at most MAX_DUPLICATES)."""
    stems, actors = _signature(title)
    if not stems:
        return []
    hits: list[tuple[str, float]] = []
    seen: set[str] = set()
    for other in existing:
        if not other or other in seen:
            continue
        seen.add(other)
        o_stems, o_actors = _signature(other)
        if not o_stems:
            continue
        sim = len(stems & o_stems) / len(stems | o_stems)
        bar = DUPLICATE_THRESHOLD_OTHER_ACTORS if actors and o_actors and actors != o_actors else DUPLICATE_THRESHOLD
        if sim >= bar:
            hits.append((other, round(sim, 2)))
    hits.sort(key=lambda h: (-h[1], h[0]))
    return hits[:MAX_DUPLICATES]


def lint_question(
    title: str,
    *,
    resolution_criteria: str = "",
    close_time: object = None,
    description: str = "",
    options: Iterable[str] = (),
    existing_titles: Iterable[str] = (),
) -> list[LintFinding]:
    """The findings for one question, in the order of LINT_CODES. ``close_time`` counts as a
    deadline when it is given at all (a date-time or a string); a multiple-choice question's
    ``options`` count with its title for the actor and the event; ``existing_titles`` are the
    other questions' titles for the duplicate check."""
    title = title or ""
    criteria = resolution_criteria or ""
    asked = " ".join([title, *(_option_clause(o) for o in options if o and not o.lower().startswith("other"))])
    out: list[LintFinding] = []
    if not close_time and not has_deadline(title, criteria):
        out.append(
            LintFinding(
                "no_deadline",
                "No dated deadline: put a date in the title or the criteria (“by 2026-12-31”) or set a close time.",
            )
        )
    if not named_actors(asked):
        out.append(
            LintFinding(
                "no_actor",
                "No named actor: say who acts (a country, an organisation or a person), by name.",
            )
        )
    if not has_observable(asked):
        out.append(
            LintFinding(
                "no_observable",
                "No observable event or threshold: use a concrete action (signs, deploys, resigns) or a number.",
            )
        )
    if not has_source(criteria):
        what = "No resolution criteria" if not criteria.strip() else "No resolution source"
        out.append(
            LintFinding(
                "no_source",
                f"{what}: say where the answer will be found (“according to …”, an official record, a named "
                "outlet or organisation, a URL).",
            )
        )
    vague = vague_words(title, criteria, description)
    if vague:
        listed = ", ".join(f"“{w}”" for w in vague[:5])
        out.append(
            LintFinding(
                "vague_words",
                f"Vague wording: {listed}. Say what counts, with a number, a named event or a source.",
            )
        )
    for other, sim in near_duplicates(title, existing_titles):
        out.append(LintFinding("near_duplicate", f"Near-duplicate of an existing question: “{other}” ({sim:.2f})."))
    return out
