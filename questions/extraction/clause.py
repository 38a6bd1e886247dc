"""Rule-based rewriting of a clause into a proposition that a "Will ...?"
question can ask about: subject, verb (base form) and the rest."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .lexicon import (
    COMBINING,
    DEMONYMS,
    MODALS,
    NOUN_VERB,
    STOPWORDS,
    VERBS,
    base_form,
    gerund_base,
    third_person,
)

_PARTICIPLE = {
    "build": "built",
    "hold": "held",
    "set": "set",
    "make": "made",
    "begin": "begun",
    "pass": "passed",
    "sign": "signed",
    "form": "formed",
    "ban": "banned",
    "put": "put",
}
_WRAPPERS = {
    "seek",
    "try",
    "want",
    "decide",
    "choose",
    "move",
    "attempt",
    "aim",
    "plan",
    "intend",
    "begin",
    "start",
    "continue",
    "be",
    "hope",
    "prepare",
    "manage",
    "wish",
    "need",
    "expect",
}
_NOT_BEFORE_VERB = {
    "the",
    "a",
    "an",
    "its",
    "their",
    "his",
    "her",
    "our",
    "this",
    "that",
    "these",
    "those",
    "of",
    "for",
    "with",
    "in",
    "on",
    "at",
    "by",
    "from",
    "into",
    "about",
    "and",
    "or",
    "than",
    "as",
    "such",
    "any",
    "no",
    "some",
    "each",
    "every",
}
_GENERIC_SUBJECT = {
    "some",
    "many",
    "others",
    "experts",
    "analysts",
    "observers",
    "critics",
    "people",
    "someone",
    "one",
    "we",
    "i",
    "you",
    "most",
}
_DEMONSTRATIVE = {"this", "that", "it", "these", "those", "such"}
_SIGNAL_VERBS = {
    "presage",
    "signal",
    "mean",
    "herald",
    "portend",
    "indicate",
    "suggest",
    "lead",
    "pave",
    "point",
    "mark",
}
_TIME_HEDGE = re.compile(
    r",?\s*\b(any ?time soon|in the near future|for the foreseeable future|in the (short|long) (run|term)|"
    r"soon|eventually|at some point)\b",
    re.I,
)
# Where a predicate's own clause ends: "... the Taliban, and seeks to ..." or
# "... a buffer zone would be in China's interest".
_CLAUSE_END = re.compile(
    r"(?:,\s*(?:and|but|though|although|while|whereas|however|which|who|whom|as|a statement|"
    r"according)\b|\s+(?:would|will|could|might|may|is|are|was|were|has|had)\s+(?:be|have|not|never|also|"
    r"likely|unlikely|in|an?|the)\b|;|\s+—\s).*$",
    re.S,
)
_ENTITY = re.compile(
    r"(?<![\w’'])(?:the\s+)?(?:[A-Z][\w’'.-]*[A-Za-z.]|[A-Z]{2,})"
    r"(?:\s+(?:of\s+(?:the\s+)?|for\s+)?(?:[A-Z][\w’'.-]*[A-Za-z]|[A-Z]{2,}))*"
)
_NOT_ENTITY = {
    "if",
    "first",
    "second",
    "third",
    "next",
    "finally",
    "conversely",
    "thus",
    "however",
    "despite",
    "although",
    "while",
    "when",
    "as",
    "in",
    "on",
    "at",
    "but",
    "and",
    "or",
    "so",
    "yet",
    "notably",
    "recently",
    "ultimately",
    "just",
    "since",
    "nonetheless",
    "notwithstanding",
    "according",
    "does",
    "do",
    "did",
    "is",
    "are",
    "will",
    "would",
    "can",
    "could",
    "should",
    "has",
    "have",
    "what",
    "why",
    "how",
    "which",
    "who",
    "whether",
    "it",
    "this",
    "that",
    "these",
    "those",
    "there",
    "they",
    "he",
    "she",
    "we",
    "i",
    "a",
    "an",
    "the",
    "by",
    "for",
    "from",
    "to",
    "with",
    "after",
    "before",
    "some",
    "many",
    "most",
    "all",
    "both",
    "either",
    "neither",
    "one",
    "another",
    "also",
    "still",
    "even",
    "then",
    "instead",
    "meanwhile",
    "moreover",
    "further",
    "furthermore",
    "indeed",
    "yes",
    "no",
    "perhaps",
    "speaking",
    "image",
    "photo",
    "speculation",
    "differences",
    "recognition",
    "media",
    "mr",
    "ms",
    "mrs",
    "dr",
    "gen",
    "president",
    "prime",
    "minister",
    "foreign",
    "former",
}


@dataclass(frozen=True)
class Prop:
    subject: str
    verb: str  # base form, or past participle when passive
    rest: str = ""
    adverb: str = ""
    passive: bool = False
    perfect: bool = False  # "Will S have <participle> ..."
    source: str = ""

    @property
    def plural(self) -> bool:
        s = self.subject.lower()
        return (
            " and " in s
            or s in {"they", "we", "both", "there"}
            or s.endswith("states")
            or (
                s.endswith("s")
                and not s.endswith(("ss", "us", "is", "'s"))
                and not any(ch.isupper() for ch in self.subject)
            )
        )

    def _verb_phrase(self) -> str:
        parts = [self.adverb, self.verb, self.rest]
        return " ".join(p for p in parts if p)

    def question_body(self) -> str:
        aux = "be " if self.passive else ("have " if self.perfect else "")
        return f"{self.subject} {aux}{self._verb_phrase()}".strip()

    def statement(self) -> str:
        if self.passive:
            head = "are" if self.plural else "is"
            return f"{self.subject} {head} {self._verb_phrase()}".strip()
        if self.perfect:
            head = "have" if self.plural else "has"
            return f"{self.subject} {head} {self._verb_phrase()}".strip()
        verb = self.verb if self.plural else third_person(self.verb)
        rest = self.rest
        if not self.plural:
            # "expand X, or expand Y" -> "expands X, or expands Y"
            rest = re.sub(
                r"(,?\s(?:or|and)\s)([a-z]+)\b",
                lambda m: m[1] + (third_person(m[2]) if m[2] in VERBS and m[2] not in {"the", "a"} else m[2]),
                rest,
            )
        parts = [self.subject, self.adverb, verb, rest]
        return " ".join(p for p in parts if p)

    def text(self) -> str:
        return self.question_body()


SOURCE_KIND = {
    "conditional": "conditional",
    "effort": "conditional",
    "question": "explicit_question",
    "whether": "open_issue",
    "negated": "open_issue",
    "prospect": "open_issue",
    "likely": "open_issue",
    "yet": "open_issue",
    "too early": "open_issue",
    "no rush": "open_issue",
    "cautious": "open_issue",
    "proposal": "proposal",
    "explore": "proposal",
    "pending": "proposal",
    "nominal": "indicator",
    "item": "indicator",
}


def finish(prop: Prop, ctx: Context) -> Prop:
    """Resolve "the organization" and fix the case of the subject."""
    from dataclasses import replace

    subject = fix_case(resolve_refs(prop.subject, ctx))
    return replace(prop, subject=subject, rest=resolve_refs(prop.rest, ctx))


def participle(verb: str) -> str:
    if verb in _PARTICIPLE:
        return _PARTICIPLE[verb]
    if verb.endswith("e"):
        return verb + "d"
    if verb.endswith("y") and verb[-2:-1] not in ("a", "e", "o", "u"):
        return verb[:-1] + "ied"
    return verb + "ed"


def _word(tok: str) -> str:
    return tok.strip(",;:.!?“”\"'()[]—–").replace("’s", "").replace("'s", "")


def clean_phrase(text: str, *, cut: bool = True) -> str:
    """Trim a predicate: parentheticals, hedges, trailing punctuation, and
    (with ``cut``) whatever follows the end of its own clause."""
    text = re.sub(r"\s*\([^()]*\)", "", text)
    text = re.sub(r"\s*—[^—]*—\s*", " ", text)
    text = re.sub(r",\s*(?:perhaps|possibly|maybe|presumably)\b[^,;]*?\bbut\s+", ", ", text, flags=re.I)
    text = re.sub(r",\s*(?:perhaps|possibly|maybe|presumably)\b[^,;]*", "", text, flags=re.I)
    text = re.sub(r"\b(or|and) to (?=[a-z])", r"\1 ", text)
    text = _TIME_HEDGE.sub("", text)
    if cut:
        text = _CLAUSE_END.sub("", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"[\s,;:.!?—–-]+$", "", text)
    text = text.strip("“”\"' ")
    # A dangling opening or closing quote left by the trim reads badly.
    if text.count("“") != text.count("”"):
        text = text.replace("“", "").replace("”", "")
    return text


def entities(text: str) -> list[str]:
    """Capitalised names, with demonyms and "Sino-Russian" mapped to countries."""
    found: list[str] = []
    for m in re.finditer(r"\b([A-Z][a-z]+)-([A-Z][a-z]+)\b", text):
        a, b = m[1].lower(), m[2].lower()
        if a in COMBINING:
            found.append(COMBINING[a])
            found.append(DEMONYMS.get(b, m[2]))
    for m in _ENTITY.finditer(text):
        name = m[0]
        if name.lower().startswith("the "):
            name = name[4:]
        name = re.sub(r"(’s|'s)$", "", name).rstrip(".")
        if "-" in name and re.fullmatch(r"[A-Z][a-z]+-[A-Z][a-z]+", name):
            continue  # handled above
        first = name.split()[0].lower()
        if first in _NOT_ENTITY:
            rest = name.split()[1:]
            if not rest:
                continue
            name = " ".join(rest)
        low = name.lower()
        if low in DEMONYMS:
            name = DEMONYMS[low]
        elif low.split()[0] in DEMONYMS and len(name.split()) > 1 and low not in {"south african"}:
            name = DEMONYMS[low.split()[0]]
        if name.lower() in STOPWORDS or len(name) < 2:
            continue
        found.append(name)
    return found


def entity_key(name: str) -> str:
    n = name.lower()
    n = re.sub(r"^the\s+", "", n)
    return n


@dataclass
class Context:
    """What a pronoun or "the organisation" may refer to: text before the clause."""

    before: str = ""  # earlier text in the section (and paragraph), nearest last
    previous_sentence: str = ""
    sentence: str = ""


def resolve_subject(subject: str, ctx: Context, clause_prefix: str = "") -> str | None:
    s = subject.strip(" ,;:“”\"'")
    s = re.sub(r"^(?:that|whether|if|then|and|but|so)\s+", "", s, flags=re.I)
    low = s.lower()
    if not s:
        return None
    if low in _GENERIC_SUBJECT:
        return None
    if low in {
        "they",
        "the two countries",
        "both countries",
        "the two",
        "both",
        "the two sides",
        "both sides",
        "the two neighbors",
        "the two neighbours",
    }:
        pair = _nearest_pair(clause_prefix + " " + ctx.sentence, ctx.before)
        return pair
    if low in {"it", "he", "she"}:
        return None
    m = re.match(r"^(?:a|an|the)\s+(?:joint\s+)?([A-Z][\w.]*)\s+(?:effort|move|decision|attempt|push|bid)\b", s)
    if m and m[1].lower() in DEMONYMS:
        return DEMONYMS[m[1].lower()]
    m = re.match(
        r"^(the|this|that)\s+(organi[sz]ation|group|bloc|alliance|body|council|union|party|company|bank|court)$", low
    )
    if m:
        noun = m[2]
        hits = [e for e in entities(ctx.before) if e.lower().split()[-1].startswith(noun[:6])]
        return ("the " + hits[-1]) if hits else s
    return s


def _nearest_pair(sentence: str, before: str) -> str | None:
    for text in (sentence, before[-1500:]):
        best = None
        for m in re.finditer(r"\b([A-Z][a-z]+)-([A-Z][a-z]+)\b", text):
            a, b = m[1].lower(), m[2].lower()
            if a in COMBINING:
                best = (m.start(), f"{COMBINING[a]} and {DEMONYMS.get(b, m[2])}")
        for m in re.finditer(r"\b([A-Z][\w]+(?: [A-Z][\w]+)?) and ((?:the )?[A-Z][\w]+(?: [A-Z][\w]+)?)\b", text):
            if m[1].lower() in _NOT_ENTITY:
                continue
            if best is None or m.start() > best[0]:
                best = (m.start(), f"{m[1]} and {m[2]}")
        if best:
            return best[1]
    return None


def actor(sentence: str) -> str | None:
    """The likely grammatical subject of a sentence, as a name."""
    s = re.sub(
        r"^(?:according to [^,]+,|(?:in|on|at|by|after|before|since|during)\s+[^,]{1,40},)\s*",
        "",
        sentence.strip(),
        flags=re.I,
    )
    s = re.sub(
        r"^(?:thus far|so far|recently|notably|meanwhile|however|conversely|first|second|third|"
        r"next|finally|nonetheless|still),\s*",
        "",
        s,
        flags=re.I,
    )
    ents = entities(s)
    return ents[0] if ents else None


def _unwrap(verb: str, rest_tokens: list[str]) -> tuple[str, list[str]]:
    """ "seeks to deepen X" -> ("deepen", X)."""
    for _ in range(3):
        if verb in _WRAPPERS and len(rest_tokens) >= 2 and rest_tokens[0] == "to":
            b = base_form(_word(rest_tokens[1]))
            if b:
                verb, rest_tokens = b, rest_tokens[2:]
                continue
        break
    return verb, rest_tokens


def parse_clause(clause: str, ctx: Context, source: str) -> Prop | None:
    """Declarative clause "S [modal] V rest" -> Prop, or None."""
    clause = clean_phrase(clause, cut=False)
    tokens = clause.split()
    if len(tokens) < 2:
        return None
    for i in range(1, min(len(tokens), 16)):
        w = _word(tokens[i]).lower()
        if not w:
            continue
        prev = _word(tokens[i - 1]).lower()
        if w in MODALS:
            j = i + 1
            while j < len(tokens) and _word(tokens[j]).lower() in {"not", "never", "also", "still", "soon"}:
                if _word(tokens[j]).lower() in {"not", "never"}:
                    pass  # the question asks whether it happens either way
                j += 1
            if j >= len(tokens):
                return None
            adverb = ""
            if _word(tokens[j]).lower().endswith("ly") and j + 1 < len(tokens):
                adverb = _word(tokens[j])
                j += 1
            # After a modal the next word is a verb, known to us or not.
            w = _word(tokens[j])
            verb = base_form(w) or (w if re.fullmatch(r"[a-z][a-z-]+", w) else None)
            if not verb:
                return None
            subject, rest = tokens[:i], tokens[j + 1 :]
            break
        if prev in _NOT_BEFORE_VERB or not tokens[i][0].islower():
            continue
        adverb = ""
        k = i
        if w.endswith("ly") and i + 1 < len(tokens) and base_form(_word(tokens[i + 1])):
            adverb, k = _word(tokens[i]), i + 1
        verb = base_form(_word(tokens[k]))
        if verb and _word(tokens[k]) == tokens[k].rstrip(",;:"):
            subject, rest = tokens[:i], tokens[k + 1 :]
            break
    else:
        return None
    verb, rest = _unwrap(verb, rest)
    if verb == "be" and rest and _word(rest[0]).lower() in {"to"}:
        return None
    subj = resolve_subject(" ".join(subject), ctx, clause_prefix="")
    if not subj or len(subj.split()) > 14:
        return None
    rest_text = clean_phrase(" ".join(rest))
    if verb == "be" and not rest_text:
        return None
    return Prop(subject=subj, verb=verb, rest=rest_text, adverb=adverb, source=source)


def gerund_phrase(text: str, subject: str | None, ctx: Context, source: str) -> Prop | None:
    """ "the CSTO creating a buffer zone" (subject inside) or, with ``subject``
    given, "recognizing the Taliban"."""
    tokens = clean_phrase(text, cut=False).split()
    for i, tok in enumerate(tokens[:18]):
        b = gerund_base(_word(tok))
        if not b:
            continue
        subj = " ".join(tokens[:i]) if i else (subject or "")
        subj = resolve_subject(subj, ctx) if subj else None
        if not subj:
            return None
        rest = clean_phrase(" ".join(tokens[i + 1 :]))
        return Prop(subject=subj, verb=b, rest=rest, source=source)
    return None


def nominal_phrase(text: str, agent: str | None, ctx: Context, source: str) -> Prop | None:
    """ "the creation of a joint force for X" -> passive; "recognition of the
    Taliban" with an agent -> "<agent> recognize the Taliban"; "international
    recognition for the Taliban" -> "the Taliban gain international recognition"."""
    text = clean_phrase(text)
    m = re.match(r"^(?:the\s+|a\s+)?((?:[a-z-]+\s+){0,2})([a-z]+)\s+(of|for)\s+(.+)$", text)
    if not m or m[2] not in NOUN_VERB:
        return None
    modifiers, noun, prep, obj = m[1].strip(), m[2], m[3], m[4]
    obj = re.split(r"\s+and\s+(?=[a-z]+ed\b)|[;:]|,\s+(?:which|who|and|but)\b", obj)[0]
    obj = clean_phrase(obj)
    verb = NOUN_VERB[noun]
    tail = ""
    where = re.search(r"\s+(?=(?:at|during|before|after|by|within|in|on)\s)", obj)
    if where and prep == "of":
        obj, tail = obj[: where.start()], obj[where.end() :]
    if prep == "for":
        subj = resolve_subject(obj, ctx)
        if not subj:
            return None
        return Prop(subject=subj, verb="gain", rest=f"{modifiers} {noun}".strip(), source=source)
    if (
        noun
        in {
            "creation",
            "establishment",
            "formation",
            "launch",
            "construction",
            "introduction",
            "adoption",
            "passage",
            "ratification",
            "approval",
            "signing",
        }
        or not agent
    ):
        return Prop(subject=obj, verb=participle(verb), rest=tail, passive=True, source=source)
    return Prop(
        subject=agent,
        verb=verb,
        rest=f"{obj} {tail}".strip(),
        adverb=modifiers if modifiers.endswith("ly") else "",
        source=source,
    )


_AUX_Q = re.compile(
    r"^(does|do|did|is|are|was|were|can|could|will|would|should|might|may|must|has|have|had)\s+(.+)$", re.I
)


def parse_question(question: str, ctx: Context) -> Prop | None:
    """Yes/no question -> Prop ("Does X pave the way for Y?" -> X pave ...)."""
    q = question.strip().strip("“”\"'")
    q = re.sub(r"^(?:but|and|so|yet|or|then|now)\s*,?\s+", "", q, flags=re.I)
    q = clean_phrase(q.rstrip("?”\"' "), cut=False)
    m = _AUX_Q.match(q)
    if not m:
        return None
    aux, body = m[1].lower(), m[2]
    tokens = body.split()
    if aux in {"is", "are", "was", "were"}:
        ents = re.match(r"^((?:the\s+)?[A-Z][\w’'.-]*(?:\s+(?:and\s+)?[A-Z][\w’'.-]*)*)\s+(.+)$", body)
        if not ents:
            return None
        subj = resolve_subject(ents[1], ctx)
        if not subj:
            return None
        rest = clean_phrase(ents[2])
        g = gerund_base(_word(rest.split()[0])) if rest else None
        if g:
            return Prop(subject=subj, verb=g, rest=" ".join(rest.split()[1:]), source="question")
        return Prop(subject=subj, verb="be", rest=rest, source="question")
    for i in range(1, min(len(tokens), 16)):
        w = _word(tokens[i]).lower()
        prev = _word(tokens[i - 1]).lower()
        if prev in _NOT_BEFORE_VERB or not tokens[i][0].islower():
            continue
        if aux in {"has", "have", "had"}:
            if w.endswith(("ed", "en")) or w in {"made", "built", "held", "set", "met", "won", "lost"}:
                subj = resolve_subject(" ".join(tokens[:i]), ctx)
                if not subj:
                    return None
                return Prop(
                    subject=subj, verb=w, rest=clean_phrase(" ".join(tokens[i + 1 :])), perfect=True, source="question"
                )
            continue
        adverb, k = "", i
        if w.endswith("ly") and i + 1 < len(tokens) and base_form(_word(tokens[i + 1])):
            adverb, k = w, i + 1
        verb = base_form(_word(tokens[k]))
        if not verb:
            continue
        subject = " ".join(tokens[:i])
        rest = clean_phrase(" ".join(tokens[k + 1 :]))
        if subject.lower() in _DEMONSTRATIVE and verb in _SIGNAL_VERBS:
            obj = re.sub(r"^(?:to|the way for|to a|for)\s+", "", rest)
            agent = actor(ctx.previous_sentence) if ctx.previous_sentence else None
            if agent and re.match(r"(?i)(greater|closer|more|deeper|further|new|increased|expanded|stronger)\b", obj):
                return Prop(subject=agent, verb="pursue", rest=obj, source="question")
            return Prop(subject="there", verb="be", rest=obj, source="question")
        subj = resolve_subject(subject, ctx)
        if not subj or subj.lower() in _DEMONSTRATIVE:
            return None
        if verb == "pave" and rest.startswith("the way for"):
            verb, rest = "lead", "to " + rest[len("the way for ") :]
        return Prop(subject=subj, verb=verb, rest=rest, adverb=adverb, source="question")
    return None


def alternatives(text: str) -> list[str] | None:
    """ "whether A or B" / "either A or B" / "A versus B" -> [A, B]."""
    for rx in (
        r"\beither\s+(.+?)\s+or\s+(.+)$",
        r"\bwhether\s+(.+?),?\s+or\s+(?!not\b)(.+)$",
        r"^(.+?)\s+(?:versus|vs\.?)\s+(.+)$",
    ):
        m = re.search(rx, text)
        if m:
            a, b = clean_phrase(m[1]), clean_phrase(m[2])
            if 1 <= len(a.split()) <= 25 and 1 <= len(b.split()) <= 25:
                return [a, b]
    return None


_PREPOSITIONS = {"with", "in", "on", "at", "to", "for", "from", "by", "before", "after", "through", "into"}


def second_option(first: Prop, alt: str, ctx: Context, source: str) -> Prop | None:
    """The second of "whether A or B" as a full proposition: B may be a whole
    clause, a bare predicate sharing A's subject ("or leave ..."), or just a
    phrase replacing the end of A ("with SQM or with a foreign partner")."""
    from dataclasses import replace

    words = alt.split()
    if not words:
        return None
    head = _word(words[0]).lower()
    if head in _PREPOSITIONS:
        rest = first.rest
        cut = rest.rfind(f" {head} ") if not rest.startswith(f"{head} ") else 0
        if cut == -1:
            return None
        base = rest[:cut].strip()
        return replace(first, rest=f"{base} {alt}".strip(), source=source)
    if base_form(head) and base_form(head) == head:
        return Prop(subject=first.subject, verb=head, rest=clean_phrase(" ".join(words[1:])), source=source)
    return parse_clause(alt, ctx, source) or parse_clause(f"{first.subject} {alt}", ctx, source)


def has_demonstrative(text: str) -> bool:
    return bool(
        re.search(
            r"\b(?:this|these|those|such)\s+[a-z]|\bthat\s+(?:position|move|step|issue|zone|"
            r"cooperation|approach|idea|plan|proposal|development|region)\b",
            text,
        )
    )


_REF = re.compile(r"\bthe\s+(organi[sz]ation|group|bloc|alliance|council|union|party|company|court|treaty)\b")


def resolve_refs(text: str, ctx: Context) -> str:
    """ "join the organization" -> "join the Shanghai Cooperation Organization"."""

    def repl(m: re.Match) -> str:
        noun = m[1]
        hits = [
            e
            for e in entities(ctx.before + " " + ctx.sentence[: max(0, ctx.sentence.find(m[0]))])
            if e.lower().split()[-1].startswith(noun[:6]) and " " in e
        ]
        return f"the {hits[-1]}" if hits else m[0]

    return _REF.sub(repl, text)


def fix_case(subject: str) -> str:
    """Lower-case a sentence-initial common word: "Differences between ..."."""
    first = subject.split()[0] if subject.split() else ""
    if first and first[0].isupper() and not first.isupper():
        names = entities(subject)
        bare = re.sub(r"(’s|'s)$", "", first)
        if not any(n.split()[0] == bare for n in names) and bare.lower() not in DEMONYMS:
            return first.lower() + subject[len(first) :]
    return subject
