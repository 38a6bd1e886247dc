"""The article's strategic question: the long-horizon question it is really about, the two poles
of its axis, and which candidates are its indicators (under which driver, in which direction).

Pure Python, deterministic, offsets into ``Document.text``. :func:`propose_strategic` looks, in
this order, for

1. an explicit central question: "The central question is whether X will deepen ...";
2. a headline that is a yes/no question: "Can the Saudi-Iranian Détente Hold?";
3. a yes/no question in the introduction about a trend: "Does the fall of Kabul pave the way for
   greater Sino-Russian coordination in Afghanistan?";
4. a title naming a trend: "Prospects for Sino-Russian Coordination in Afghanistan".

The thesis becomes "Will <subject> <trend verb>?" with poles "Less <noun>" / "More <noun>" (or,
for a verb, "<Noun> holds" / "<Noun> breaks down"). Each candidate whose event involves the
thesis's actors and carries a cue (jointly, together, sign, recognise... versus split, refuse,
unilaterally, excluding...) becomes an indicator: direction +1 when YES (or, for multiple choice,
a later option) moves towards the "more" pole, -1 otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .clause import Context, entities, entity_key, parse_clause, parse_question
from .lexicon import CALENDAR_WORDS, COMBINING, DEMONYMS, content_stems, third_person
from .model import CandidateQuestion, Document
from .segment import Segmented, segment

SOURCES = ("central_question", "headline_question", "opening_question", "title")
OTHER_OPTION = "Other / neither"
#: A non-watch-list candidate counts for half: the author named the watch list as the signposts.
SECONDARY_WEIGHT = 0.5
MIN_WEIGHT = 0.05
#: How far into the body an opening question may sit (share of the body's length).
OPENING_SHARE = 0.2

# --- Word lists ------------------------------------------------------------------------------

#: Trend nouns -> (verb towards "more", verb towards "less", "less" pole, "more" pole).
TREND_NOUNS: dict[str, tuple[str, str, str, str]] = {
    "coordination": ("deepen", "weaken", "Less coordination", "More coordination"),
    "cooperation": ("deepen", "weaken", "Less cooperation", "More cooperation"),
    "integration": ("deepen", "stall", "Less integration", "More integration"),
    "alignment": ("deepen", "weaken", "Less alignment", "More alignment"),
    "partnership": ("deepen", "weaken", "Weaker partnership", "Deeper partnership"),
    "convergence": ("deepen", "reverse", "Less convergence", "More convergence"),
    "engagement": ("deepen", "decline", "Less engagement", "More engagement"),
    "ties": ("deepen", "weaken", "Weaker ties", "Closer ties"),
    "relations": ("improve", "worsen", "Worse relations", "Better relations"),
    "influence": ("grow", "decline", "Less influence", "More influence"),
    "presence": ("grow", "shrink", "Smaller presence", "Larger presence"),
    "role": ("grow", "shrink", "Smaller role", "Larger role"),
    "involvement": ("grow", "decline", "Less involvement", "More involvement"),
    "dependence": ("grow", "decline", "Less dependence", "More dependence"),
    "reliance": ("grow", "decline", "Less reliance", "More reliance"),
    "rivalry": ("intensify", "ease", "Less rivalry", "More rivalry"),
    "competition": ("intensify", "ease", "Less competition", "More competition"),
    "tensions": ("rise", "ease", "Lower tensions", "Higher tensions"),
    "tension": ("rise", "ease", "Less tension", "More tension"),
    "confrontation": ("escalate", "ease", "Less confrontation", "More confrontation"),
    "trade": ("grow", "shrink", "Less trade", "More trade"),
    "investment": ("grow", "shrink", "Less investment", "More investment"),
    "polarization": ("deepen", "ease", "Less polarization", "More polarization"),
    "polarisation": ("deepen", "ease", "Less polarisation", "More polarisation"),
    "fragmentation": ("deepen", "ease", "Less fragmentation", "More fragmentation"),
}
_NOUNS = "|".join(sorted(TREND_NOUNS, key=len, reverse=True))
_MORE_ADJ = (
    "greater|closer|deeper|more|stronger|increased|increasing|growing|further|expanded|expanding|wider|"
    "tighter|enhanced|intensified|intensifying|heightened|broader|rising|deepening"
)
_LESS_ADJ = "less|weaker|reduced|diminished|declining|waning|fewer|looser|lower|weakening|shrinking"
_NAME = r"(?:the\s+)?[A-Z][\w’'-]*(?:(?:\s+and|,)?\s+(?:the\s+)?[A-Z][\w’'-]*)*"
_PP = rf"(?:\s+(?:in|with|between|among|across|within|on|over|towards?)\s+{_NAME})"
TREND_NP = re.compile(
    rf"\b(?P<adj>(?i:{_MORE_ADJ}|{_LESS_ADJ}))\s+(?P<mods>(?:[\w’'-]+\s+){{0,3}}?)"
    rf"(?P<noun>(?i:{_NOUNS}))\b(?P<pp>{_PP}{{0,2}})"
)
TITLE_NP = re.compile(rf"(?P<mods>(?:[A-Z][\w’'-]*\s+){{0,3}})(?P<noun>(?i:{_NOUNS}))\b(?P<pp>{_PP}{{0,2}})")

#: Trend verbs -> what the "less" pole does. Intransitive use only ("X will deepen", "X holds").
TREND_VERBS: dict[str, str] = {
    "deepen": "stalls",
    "grow": "shrinks",
    "strengthen": "weakens",
    "expand": "shrinks",
    "widen": "narrows",
    "improve": "worsens",
    "warm": "cools",
    "intensify": "eases",
    "escalate": "eases",
    "hold": "breaks down",
    "last": "ends",
    "survive": "collapses",
    "endure": "ends",
    "persist": "fades",
    "converge": "diverges",
    "weaken": "holds",
    "fray": "holds",
    "erode": "holds",
    "collapse": "survives",
    "unravel": "holds",
    "deteriorate": "improves",
    "worsen": "improves",
    "cool": "warms",
    "diverge": "converges",
    "decline": "recovers",
    "shrink": "grows",
    "fade": "persists",
    "rise": "falls",
}
_PREPOSITIONS = {
    "beyond",
    "in",
    "into",
    "with",
    "between",
    "among",
    "across",
    "over",
    "under",
    "after",
    "before",
    "by",
    "through",
    "despite",
    "amid",
    "as",
    "for",
    "on",
    "at",
    "within",
    "until",
}
_AUX = re.compile(
    r"^(?:but|and|so|yet|now)?\s*,?\s*(?P<aux>does|do|did|is|are|was|were|can|could|will|would|should|might|may|"
    r"has|have|had)\s+(?P<body>.+?)\s*[?]?\s*[”\"'’]*\s*$",
    re.I | re.S,
)
_CENTRAL = re.compile(
    r"\b(?:(?:the|our|one|a)\s+(?:(?:central|key|big|bigger|biggest|real|core|underlying|fundamental|overarching|"
    r"main|larger|broader|strategic|crucial|critical|essential|defining|open)\s+)*question"
    r"(?:\s+(?:here|now|today|ahead|for\s+[^,.;]{1,60}?|facing\s+[^,.;]{1,60}?|in\s+[^,.;]{1,40}?))?"
    r"\s+(?:is|remains|becomes|will\s+be)|what\s+matters(?:\s+most)?\s+is|at\s+(?:issue|stake)\s+is)"
    r"\s*,?\s*(?:simply\s+)?(?:whether|if)\s+(?P<clause>[^.?!]+)",
    re.I,
)
_ADJECTIVE_CENTRAL = re.compile(
    r"\b(central|key|big|bigger|biggest|real|core|underlying|fundamental|overarching|main|strategic)\s+question",
    re.I,
)
_MONTHS = CALENDAR_WORDS
_QUESTION_WORDS = {"will", "which", "what", "who", "when", "how", "whether", "if", "would", "can", "does", "is"}

# Cues in an indicator's YES event. Each is (pattern, kind); kinds: joint, coop, less.
_EXCLUDE = re.compile(
    r"\b(excluding|without|except(?:\s+for)?|instead\s+of|rather\s+than|not\s+with)\s+([^,;.?]+)", re.I
)
_NEGATOR = re.compile(
    r"\b(refus\w*|reject\w*|fail\w*\s+to|not|never|no\s+longer|block\w*|veto\w*|oppos\w*|boycott\w*|"
    r"withdraw\w*|leav(?:e|es|ing)|exit\w*|quit\w*|suspend\w*|suspension|freez\w*|cancel\w*|halt\w*|"
    r"sever\w*|downgrad\w*|abandon\w*|break(?:s|ing)?\s+(?:off|with|away)|expel\w*)\b",
    re.I,
)
_SPLIT = re.compile(
    r"\b(splits?|split|rifts?|divid\w*|divisions?|differences?|disagree\w*|disputes?|compet\w*|rival\w*|"
    r"diverg\w*|clash\w*|confront\w*)\b",
    re.I,
)
_ALONE = re.compile(
    r"\b(unilateral(?:ly)?|alone|on\s+(?:its|their)\s+own|its\s+own|their\s+own|independently|separately)\b",
    re.I,
)
_CONFLICT = re.compile(
    r"\b(attacks?|attacked|attacking|invad\w*|invasion|seiz\w*|strikes\s+on|strike\s+on|bomb\w*|"
    r"impos\w*\s+(?:new\s+)?sanctions)\b",
    re.I,
)
_JOINT = re.compile(
    r"\b(jointly|joint|together|simultaneously|in\s+tandem|common|mutual(?:ly)?|coordinat\w*|align\w*)\b", re.I
)
_COOP = re.compile(
    r"\b(cooperat\w*|co-operat\w*|deepen\w*|strengthen\w*|integrat\w*|agree[sd]?|agreeing|agreements?|"
    r"sign(?:s|ed|ing)?|ratif\w*|recogni[sz]\w*|join(?:s|ed|ing)?|endors\w*|engag\w*|"
    r"expand\w*|invest\w*|support\w*|treaty|treaties|pacts?|accords?|deals?|"
    r"adopt\w*|approv\w*|launch\w*|fund(?:s|ed|ing)?|establish\w*|creat\w*|build\w*|set\s+up|form(?:s|ed)?|"
    r"(?:restor|resum|reopen|normali[sz])\w*\s+(?:\w+\s+){0,2}?(?:relations|ties|talks|dialogue|flights|trade|"
    r"embass\w*|contacts)|(?:lift|remov|eas|end)\w*\s+(?:the\s+|its\s+|their\s+)?(?:\w+\s+)?sanctions)\b",
    re.I,
)
_WITH = re.compile(r"\bwith\s+((?:the\s+|a\s+|an\s+)?(?:[A-Z][\w’'.-]*|[A-Z]{2,})(?:\s+[A-Z][\w’'.-]*)*)")
_RAW_NAME = re.compile(
    r"(?<![\w’'])(?:[A-Z][\w’'.-]*[\w]|[A-Z]{2,})(?:\s+(?:of\s+(?:the\s+)?|for\s+)?(?:[A-Z][\w’'.-]*[\w]|[A-Z]{2,}))*"
)

# Driver families: which kind of lever an indicator is, by its words.
_FAMILIES = (
    ("recognition", re.compile(r"recogni|legitima|embass|diplomatic", re.I)),
    ("conflict", re.compile(r"attack|strike|invad|invasion|\bwar\b|fight|militia|proxy|bomb", re.I)),
    (
        "security",
        re.compile(
            r"militar|securit|\bbases?\b|airbase|troop|deploy|buffer|border|intelligence|\bforces?\b|exercise|patrol|"
            r"interven|defen[cs]e|weapon|\barms\b|nuclear|maritime",
            re.I,
        ),
    ),
    (
        "economic",
        re.compile(
            r"trade|invest|econom|\bfund|financ|loan|corridor|pipeline|energy|\bgas\b|\boil\b|\bport\b|terminal|tariff",
            re.I,
        ),
    ),
    ("membership", re.compile(r"\bjoin|member|accession", re.I)),
)
_FAMILY_WITH = {
    "security": "Security cooperation with",
    "economic": "Economic ties with",
    "membership": "Relations with",
    "conflict": "Conflict with",
}
_FAMILY_IN = {
    "security": "Security cooperation in",
    "economic": "Investment in",
    "conflict": "Conflict in",
    "membership": "Membership in",
}
_FAMILY_BETWEEN = {
    "security": "Security cooperation between",
    "economic": "Economic ties between",
    "recognition": "Diplomatic ties between",
}


# --- Value objects ---------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorProposal:
    """One candidate as an indicator: ``candidate`` indexes the list given to propose_strategic."""

    candidate: int
    direction: int  # +1: YES (a later option) moves towards the "more" pole; -1: away from it
    weight: float  # > 0
    rationale: str

    def to_dict(self) -> dict:
        return {
            "candidate": self.candidate,
            "direction": self.direction,
            "weight": self.weight,
            "rationale": self.rationale,
        }


@dataclass(frozen=True)
class DriverProposal:
    title: str
    indicators: tuple[IndicatorProposal, ...] = ()

    def to_dict(self) -> dict:
        return {"title": self.title, "indicators": [i.to_dict() for i in self.indicators]}


@dataclass(frozen=True)
class StrategicProposal:
    """The strategic question an article is about. ``doc.text[start:end] == passage``."""

    title: str
    description: str
    source: str  # one of SOURCES
    start: int
    end: int
    passage: str
    pole_less: str
    pole_more: str
    drivers: tuple[DriverProposal, ...] = ()

    def indicators(self) -> list[tuple[str, IndicatorProposal]]:
        """(driver title, indicator) pairs, drivers in order."""
        return [(d.title, i) for d in self.drivers for i in d.indicators]

    def to_dict(self) -> dict:
        return {
            "title": self.title,
            "description": self.description,
            "source": self.source,
            "start": self.start,
            "end": self.end,
            "passage": self.passage,
            "pole_less": self.pole_less,
            "pole_more": self.pole_more,
            "drivers": [d.to_dict() for d in self.drivers],
        }


@dataclass(frozen=True)
class Thesis:
    source: str
    start: int
    end: int
    title: str
    pole_less: str
    pole_more: str
    noun: str  # the trend noun (or the subject's head noun), lower case
    actors: tuple[str, ...]  # entity keys of who the question is about, in order
    actor_names: tuple[str, ...]
    places: tuple[str, ...]  # entity keys of where
    stems: frozenset[str] = field(default_factory=frozenset)


# --- Names -----------------------------------------------------------------------------------


def _pairs(text: str) -> list[str]:
    """ "Sino-Russian" -> China, Russia; "Saudi-Iranian" -> Saudi Arabia, Iran."""
    out = []
    for m in re.finditer(r"\b([A-Z][a-z]+)-([A-Z][a-z]+)\b", text):
        a, b = m[1].lower(), m[2].lower()
        first = COMBINING.get(a) or DEMONYMS.get(a)
        second = DEMONYMS.get(b) or COMBINING.get(b)
        if first and second:
            out += [first, second]
    return out


def names(text: str) -> list[str]:
    """Entity keys named in ``text``, in order, once each (countries for demonyms and pairs)."""
    seen: list[str] = []
    for name in _pairs(text) + entities(text):
        key = entity_key(name)
        if key and key not in seen and key not in _MONTHS:
            seen.append(key)
    return seen


def _display(key: str, text: str) -> str:
    """How ``text`` writes the entity ``key`` ("the Taliban", "Russia")."""
    m = re.search(rf"\b(the\s+)?({re.escape(key)})\b", text, re.I)
    if m and m[2][0].isupper():
        return f"{m[1] or ''}{m[2]}".strip()
    for name in _pairs(text) + entities(text):
        if entity_key(name) == key:
            return name
    return key


def _sentence_case(phrase: str, body: str) -> str:
    """Lower-case a headline's capitalised common words: those the body also writes in lower case."""
    out = []
    for i, word in enumerate(phrase.split(" ")):
        core = word.strip("“”\"'‘’?!.,:;()")
        if (
            i > 0
            and core[:1].isupper()
            and not core.isupper()
            and "-" not in core
            and re.search(rf"(?<![\w’'-]){re.escape(core.lower())}(?![\w’'-])", body)
        ):
            word = word.replace(core, core.lower(), 1)
        out.append(word)
    return " ".join(out)


# --- Finding the thesis ----------------------------------------------------------------------


def _verb_base(token: str) -> str | None:
    t = token.lower().strip("“”\"'‘’?!.,:;()")
    for cand in (t, t[:-1], t[:-2], t[:-3], t[:-3] + "e", t[:-1] if t.endswith("d") else "", t[:-3] + "y"):
        if cand in TREND_VERBS:
            return cand
    if t.endswith("ies") and t[:-3] + "y" in TREND_VERBS:
        return t[:-3] + "y"
    return None


def _np_parts(mods: str, noun: str, pp: str) -> tuple[str, str]:
    """The noun phrase and the part of it naming actors (modifiers and 'with/between X')."""
    np = " ".join(f"{mods.strip()} {noun.lower()}{pp}".split())
    actor_text = mods
    for m in re.finditer(rf"\b(with|between|among)\s+({_NAME})", pp):
        actor_text += " " + m[2]
    return np, actor_text


def _places(pp: str) -> list[str]:
    out = []
    for m in re.finditer(rf"\b(?:in|across|within|on|over|towards?)\s+({_NAME})", pp):
        out += names(m[1])
    return out


def _trend_thesis(clause: str) -> tuple[str, str, str, str, str, list[str]] | None:
    """(title, pole_less, pole_more, noun, actor text, places) from a comparative noun phrase
    ("greater Sino-Russian coordination in Afghanistan") or an intransitive trend verb
    ("European defence cooperation will deepen beyond ...", "the détente hold")."""
    m = TREND_NP.search(clause)
    if m:
        noun = m["noun"].lower()
        more_verb, less_verb, pole_less, pole_more = TREND_NOUNS[noun]
        np, actor_text = _np_parts(m["mods"], noun, m["pp"])
        less = re.fullmatch(_LESS_ADJ, m["adj"].lower()) is not None
        return (
            f"Will {np} {less_verb if less else more_verb}?",
            pole_less,
            pole_more,
            noun,
            actor_text,
            _places(m["pp"]),
        )
    tokens = clause.split()
    for i, tok in enumerate(tokens):
        verb = _verb_base(tok)
        if verb is None or i == 0:
            continue
        subject = tokens[:i]
        while subject and subject[-1].lower() in {"will", "would", "can", "could", "continue", "to", "be", "keep",
                                                  "start", "begin", "still", "further", "really", "actually",
                                                  "finally", "ever", "likely", "is", "are", "may", "might"}:  # fmt: skip
            subject = subject[:-1]
        rest = tokens[i + 1 :]
        if not subject or len(subject) > 10:
            return None
        if rest and rest[0].lower().strip(",;:") not in _PREPOSITIONS:
            return None  # transitive ("hold talks"): not a trend
        tail = []
        for word in rest[:10]:
            tail.append(word)
            if re.search(r"[,;:—]$", word):
                break
        subject_text = " ".join(subject)
        rest_text = " ".join(tail).rstrip(",;:—?.!”\"'")
        head_phrase = re.split(r"\s+(?:between|of|in|with|among|on|over)\s+", subject_text)[0]
        head = re.sub(r"(’s|'s)$", "", head_phrase.split()[-1]).lower().strip("“”\"'")
        if head in TREND_NOUNS:
            pole_less, pole_more = TREND_NOUNS[head][2], TREND_NOUNS[head][3]
        else:
            label = head[:1].upper() + head[1:]
            pole_more, pole_less = f"{label} {third_person(verb)}", f"{label} {TREND_VERBS[verb]}"
        title = f"Will {subject_text} {verb}{' ' + rest_text if rest_text else ''}?"
        return title, pole_less, pole_more, head, subject_text, _places(" " + rest_text)
    return None


def _generic_thesis(clause: str, ctx: Context, question: bool) -> tuple[str, str, str, str, str, list[str]] | None:
    """A thesis that names no trend (an event the article turns on): poles No / Yes."""
    prop = parse_question(clause, ctx) if question else parse_clause(clause, ctx, "thesis")
    if prop is None or prop.subject.lower() in {"there", "it", "this", "that"}:
        return None
    body = prop.question_body()
    head = prop.subject.split()[-1].lower()
    return f"Will {body}?", "No", "Yes", head, prop.subject, []


def _make(source: str, start: int, end: int, built, doc: Document) -> Thesis:
    title, pole_less, pole_more, noun, actor_text, places = built
    title = title[:1].upper() + title[1:]
    actors = [k for k in names(actor_text) if k not in places]
    return Thesis(
        source=source,
        start=start,
        end=end,
        title=title,
        pole_less=pole_less,
        pole_more=pole_more,
        noun=noun,
        actors=tuple(actors),
        actor_names=tuple(_display(k, actor_text) for k in actors),
        places=tuple(dict.fromkeys(places)),
        stems=frozenset(content_stems(title) - {"will"}),
    )


def _sentences(seg: Segmented):
    for p in seg.paragraphs:
        if p.kind == "heading":
            continue
        yield from p.sentences


def _central_question(doc: Document, seg: Segmented) -> Thesis | None:
    found = []
    for s in _sentences(seg):
        sentence = doc.text[s.start : s.end]
        m = _CENTRAL.search(sentence)
        if not m:
            continue
        clause = m["clause"].strip()
        ctx = Context(before=doc.text[max(0, s.start - 3000) : s.start], sentence=sentence)
        built = _trend_thesis(clause) or _generic_thesis(clause, ctx, question=False)
        if built:
            strong = bool(_ADJECTIVE_CENTRAL.search(sentence))
            found.append((not strong, s.start, _make("central_question", s.start, s.end, built, doc)))
    return min(found, key=lambda f: (f[0], f[1]))[2] if found else None


def _title_span(doc: Document) -> tuple[int, int] | None:
    if not doc.title:
        return None
    head = doc.text[doc.body_start : doc.body_start + 2000]
    at = head.find(doc.title)
    if at == -1:
        return None
    return doc.body_start + at, doc.body_start + at + len(doc.title)


def _headline_question(doc: Document) -> Thesis | None:
    span = _title_span(doc)
    if span is None or not doc.title.rstrip().endswith("?"):
        return None
    m = _AUX.match(doc.title.strip())
    if not m:
        return None
    body = doc.text[span[1] :]
    question = _sentence_case(doc.title.strip(), body)
    clause = _AUX.match(question)["body"]
    ctx = Context(sentence=question)
    built = _trend_thesis(clause) or _generic_thesis(question, ctx, question=True)
    return _make("headline_question", span[0], span[1], built, doc) if built else None


def _opening_question(doc: Document, seg: Segmented) -> Thesis | None:
    body_len = max(1, len(doc.text) - doc.body_start)
    for s in _sentences(seg):
        if (s.start - doc.body_start) / body_len > OPENING_SHARE:
            break
        sentence = doc.text[s.start : s.end]
        if not sentence.rstrip("”\"'’ ").endswith("?") or len(sentence.split()) < 5:
            continue
        if any(q in sentence[:-2] for q in '“"‘'):
            continue  # someone else's question, quoted
        m = _AUX.match(sentence)
        if not m:
            continue
        built = _trend_thesis(m["body"])
        if built:
            return _make("opening_question", s.start, s.end, built, doc)
    return None


def _title_thesis(doc: Document) -> Thesis | None:
    span = _title_span(doc)
    if span is None:
        return None
    m = TITLE_NP.search(doc.title)
    if not m:
        return None
    noun = m["noun"].lower()
    body = doc.text[span[1] :]
    if len(re.findall(rf"\b{noun}\b", body, re.I)) < 2:
        return None  # the body does not come back to it
    more_verb, _less, pole_less, pole_more = TREND_NOUNS[noun]
    mods = _sentence_case("X " + m["mods"].strip(), body)[2:] if m["mods"].strip() else ""
    np, actor_text = _np_parts(mods, noun, m["pp"])
    built = (f"Will {np} {more_verb}?", pole_less, pole_more, noun, actor_text, _places(m["pp"]))
    return _make("title", span[0], span[1], built, doc)


def find_thesis(doc: Document, seg: Segmented | None = None) -> Thesis | None:
    """The article's thesis question, or None."""
    seg = seg or segment(doc)
    return _central_question(doc, seg) or _headline_question(doc) or _opening_question(doc, seg) or _title_thesis(doc)


# --- Indicators ------------------------------------------------------------------------------


@dataclass
class _Reading:
    score: int = 0
    reasons: list[str] = field(default_factory=list)
    split: bool = False

    def add(self, sign: int, reason: str) -> None:
        self.score += sign
        if reason not in self.reasons:
            self.reasons.append(reason)


def _event_texts(c: CandidateQuestion) -> list[str]:
    """The YES event of a binary draft, or each option's event of a multiple-choice one."""
    title = re.sub(r"\s+by\s+\d{4}-\d{2}-\d{2}(?=\s*[?:])", "", c.draft.title)
    if c.draft.type != "multiple_choice":
        return [re.sub(r"^Will\s+|\?$", "", title).strip()]
    m = re.search(r"\bwill\s+(.+?)\s+do\s+first\b", title)
    subject = m[1] if m and not m[1].startswith("these") else ""
    m2 = re.search(r"\bwill\s+(?:these\s+)?(.+?)\s+do\s+first\b", title)
    subject = subject or (m2[1] if m2 and m2[1] not in {"these", "of these"} else "")
    return [f"{subject} {o}".strip() for o in c.draft.options if o != OTHER_OPTION]


def read_event(text: str, thesis: Thesis) -> _Reading:
    """Does this event move the thesis towards its "more" pole (score > 0) or away (< 0)?"""
    r = _Reading()
    pair = len(thesis.actors) >= 2
    for m in _EXCLUDE.finditer(text):
        r.add(-1, f"“{m[1]} {m[2].strip()}”")
    plain = _EXCLUDE.sub(" ", text)
    mentioned = [k for k in names(plain) if k in thesis.actors]
    partners = [k for m in _WITH.finditer(plain) for k in names(m[1])]
    partner_in = [k for k in partners if k in thesis.actors]
    outsiders = [k for k in partners if k not in thesis.actors and k not in thesis.places]
    outsider_name = _display(outsiders[0], plain) if outsiders else ""
    neg = _NEGATOR.search(plain)
    neg_at = neg.start() if neg else len(plain)
    if neg:
        r.add(-1, f"“{neg[1]}”, a step apart")
    for rx in (_SPLIT, _ALONE, _CONFLICT):
        for m in rx.finditer(plain):
            if rx is _SPLIT:
                r.split = True
            why = {
                _SPLIT: "a split between them",
                _ALONE: "going it alone",
                _CONFLICT: "conflict",
            }[rx]
            r.add(-1, f"“{m[1]}”: {why}")
    for rx, joint in ((_JOINT, True), (_COOP, False)):
        for m in rx.finditer(plain):
            word = " ".join(m[1].split())
            if m.start() > neg_at:
                r.add(-1, f"“{neg[1]} … {word}”")
                continue
            if outsiders and not partner_in and not (pair and len(mentioned) >= 2):
                others = " and ".join(n for n in thesis.actor_names if entity_key(n) not in mentioned)
                note = f", not with {others}" if pair and others else ", outside partner"
                r.add(-1, f"“{word}” with {outsider_name}{note}")
            elif joint:
                r.add(+1, f"acting jointly (“{word}”)")
            elif not pair or len(mentioned) >= 2:
                who = f" between {' and '.join(thesis.actor_names[:2])}" if pair else ""
                r.add(+1, f"“{word}”{who}")
            elif partner_in:
                r.add(+1, f"“{word}” with {_display(partner_in[0], plain)}")
    return r


def _framing(passage: str, noun: str) -> int:
    """How the passage itself frames the event, when the event carries no cue."""
    n = re.escape(noun)
    if re.search(rf"\b(?:{_MORE_ADJ}|a degree of|promising)\s+(?:[\w-]+\s+){{0,2}}{n}\b", passage, re.I):
        return +1
    if re.search(
        rf"\b(?:{_LESS_ADJ}|limits?\s+(?:to|on)|obstacles?\s+to|impediments?\s+to)\s+(?:[\w-]+\s+){{0,2}}{n}\b",
        passage,
        re.I,
    ):
        return -1
    return 0


def _relevant(c: CandidateQuestion, texts: list[str], thesis: Thesis) -> bool:
    if c.kind == "indicator":
        return True
    if thesis.actors:
        if any(k in thesis.actors for t in texts for k in names(t)):
            return True
        in_passage = [k for k in names(c.passage) if k in thesis.actors]
        return len(in_passage) >= min(2, len(thesis.actors))
    return bool(thesis.stems & content_stems(" ".join(texts)))


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _link(index: int, c: CandidateQuestion, thesis: Thesis) -> tuple[IndicatorProposal, _Reading, str] | None:
    if c.draft.is_continuous:
        return None  # a quantity has no YES to move the thesis; the composite reads events only
    texts = _event_texts(c)
    if not texts or not _relevant(c, texts, thesis):
        return None
    weight = round(min(1.0, max(MIN_WEIGHT, c.score * (1.0 if c.kind == "indicator" else SECONDARY_WEIGHT))), 2)
    if c.draft.type == "multiple_choice":
        readings = [read_event(t, thesis) for t in texts]
        first, last = readings[0], readings[-1]
        if len(readings) < 2 or first.score == last.score:
            return None
        direction = 1 if last.score > first.score else -1
        towards = thesis.pole_more if direction > 0 else thesis.pole_less
        lean = {1: thesis.pole_more, -1: thesis.pole_less}
        labels = [o for o in c.draft.options if o != OTHER_OPTION]
        a = f"“{_short(labels[0])}” leans towards “{lean[1 if first.score > 0 else -1]}”"
        b = f"“{_short(labels[-1])}” towards “{lean[1 if last.score > 0 else -1]}”"
        rationale = f"{a}, {b}: a later option means “{towards}”."
        merged = _Reading(score=last.score - first.score, reasons=first.reasons + last.reasons)
        merged.split = first.split or last.split
        return IndicatorProposal(index, direction, weight, rationale), merged, texts[0]
    reading = read_event(texts[0], thesis)
    if reading.score == 0:
        framed = _framing(c.passage, thesis.noun)
        if framed == 0:
            return None
        word = "more" if framed > 0 else "less"
        reading = _Reading(score=framed, reasons=[f"the passage reads it as a sign of {word} {thesis.noun}"])
    direction = 1 if reading.score > 0 else -1
    pole = thesis.pole_more if direction > 0 else thesis.pole_less
    rationale = f"YES moves it towards “{pole}”: {'; '.join(reading.reasons[:3])}."
    return IndicatorProposal(index, direction, weight, rationale), reading, texts[0]


def _driver_title(text: str, reading: _Reading, thesis: Thesis, section: str) -> str:
    plain = _EXCLUDE.sub(" ", text)
    mentioned = [k for k in names(plain) if k in thesis.actors]
    pair = " and ".join(thesis.actor_names[:2])
    family = next((name for name, rx in _FAMILIES if rx.search(plain)), None)
    if reading.split and len(mentioned) >= 2:
        return f"Differences between {pair}"
    if family == "recognition":
        target = _other(plain, thesis, prefer_with=False)
        if target:
            return f"Recognition of {target[0]}"
    target = _other(plain, thesis, prefer_with=True)
    if target:
        name, prep = target
        if prep == "with":
            if family is None and re.search(r"\bengag", plain, re.I):
                return f"Engagement with {name}"
            return f"{_FAMILY_WITH.get(family or '', 'Relations with')} {name}"
        if prep == "in":
            return f"{_FAMILY_IN.get(family or '', 'Developments in')} {name}"
        return name[:1].upper() + name[1:]
    if len(thesis.actors) >= 2 and len(mentioned) >= 2:
        if reading.score < 0:
            return f"Differences between {pair}"
        return f"{_FAMILY_BETWEEN.get(family or '', 'Cooperation between')} {pair}"
    return section or "Other signposts"


def _is_actorish(name: str, thesis: Thesis) -> bool:
    bare = re.sub(r"^the\s+", "", name, flags=re.I)
    low = bare.lower()
    keys = names(bare)
    if low in thesis.actors or low in thesis.places:
        return True
    if low in DEMONYMS and entity_key(DEMONYMS[low]) in thesis.actors + thesis.places:
        return True
    if _pairs(bare) and all(entity_key(p) in thesis.actors for p in _pairs(bare)):
        return True
    return len(bare.split()) <= 2 and bool(keys) and all(k in thesis.actors + thesis.places for k in keys)


def _other(text: str, thesis: Thesis, *, prefer_with: bool) -> tuple[str, str] | None:
    """The entity the event is about besides the thesis's actors, and the preposition before it
    ("with", "in", or "" for a subject or object)."""
    found: list[tuple[str, str]] = []
    place_hits: list[tuple[str, str]] = []
    for m in _RAW_NAME.finditer(text):
        name = m[0]
        words = name.split()
        while words and words[0].lower() in _QUESTION_WORDS | _MONTHS:
            words = words[1:]
        if not words:
            continue
        name = " ".join(words)
        if name.lower() in _MONTHS:
            continue
        before = text[: m.start()].split()
        prep = ""
        article = ""
        if before and before[-1].lower() in {"the", "a", "an"}:
            article = "the " if before[-1].lower() == "the" else ""
            before = before[:-1]
        if before and before[-1].lower() in {"with", "in", "on", "for", "over", "across", "within", "into"}:
            prep = "with" if before[-1].lower() == "with" else "in"
        last_key = entity_key(name.split()[-1])
        hit = (article + name, prep)
        if _is_actorish(name, thesis):
            if entity_key(name) in thesis.places or last_key in thesis.places:
                place_hits.append(hit)
            continue
        if last_key in thesis.places and "-" in name:
            place_hits.append(hit)
            continue
        found.append(hit)
    if prefer_with:
        for hit in found:
            if hit[1] == "with":
                return hit
    if found:
        return found[-1]
    return place_hits[-1] if place_hits else None


def propose_strategic(doc: Document, candidates: Sequence[CandidateQuestion]) -> StrategicProposal | None:
    """The article's strategic question with its drivers and indicators, or None when the text
    states no thesis question. ``candidates`` are extract_candidates' output for ``doc``; the
    indicators index that list."""
    seg = segment(doc)
    thesis = find_thesis(doc, seg)
    if thesis is None:
        return None
    groups: dict[str, list[IndicatorProposal]] = {}
    for i, c in enumerate(candidates):
        spans = [(c.start, c.end), *c.related]
        if any(s < thesis.end and thesis.start < e for s, e in spans):
            continue  # the thesis itself
        linked = _link(i, c, thesis)
        if linked is None:
            continue
        indicator, reading, text = linked
        groups.setdefault(_driver_title(text, reading, thesis, c.section), []).append(indicator)
    drivers = [
        DriverProposal(title, tuple(sorted(items, key=lambda x: (-x.weight, x.candidate))))
        for title, items in groups.items()
    ]
    drivers.sort(key=lambda d: (-d.indicators[0].weight, d.indicators[0].candidate))
    passage = doc.text[thesis.start : thesis.end]
    lead = {
        "central_question": "The article states its central question",
        "headline_question": "The article's headline asks it",
        "opening_question": "The article opens with the question",
        "title": "The article's subject, from its title",
    }[thesis.source]
    description = (
        f"{lead}: “{_short(passage, 240)}” An indicator with direction +1 moves it towards "
        f"“{thesis.pole_more}” when it resolves YES (or to a later option), -1 towards “{thesis.pole_less}”."
    )
    return StrategicProposal(
        title=thesis.title,
        description=description,
        source=thesis.source,
        start=thesis.start,
        end=thesis.end,
        passage=passage,
        pole_less=thesis.pole_less,
        pole_more=thesis.pole_more,
        drivers=tuple(drivers),
    )


def render_strategic(proposal: StrategicProposal | None, candidates: Sequence[CandidateQuestion]) -> str:
    """The proposal as plain text, for the command's table output."""
    if proposal is None:
        return "No strategic question found."
    lines = [
        f"Strategic question: {proposal.title}",
        f"  from the {proposal.source.replace('_', ' ')}, characters {proposal.start}-{proposal.end}",
        f"  axis: {proposal.pole_less}  <->  {proposal.pole_more}",
    ]
    for d in proposal.drivers:
        lines.append(f"  Driver: {d.title}")
        for ind in d.indicators:
            sign = "+1" if ind.direction > 0 else "-1"
            title = candidates[ind.candidate].draft.title
            lines.append(f"    #{ind.candidate + 1} {sign} weight {ind.weight:.2f}  {title}")
            lines.append(f"        {ind.rationale}")
    return "\n".join(lines)
