"""Find the passages that pose open questions and the propositions they
are about."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .clause import (
    Context,
    Prop,
    actor,
    alternatives,
    clean_phrase,
    finish,
    gerund_phrase,
    nominal_phrase,
    parse_clause,
    parse_question,
    resolve_subject,
    second_option,
)
from .lexicon import DEMONYMS, base_form
from .numeric import sentence_frame
from .segment import Paragraph, Segmented, Span

KINDS = ("indicator", "explicit_question", "conditional", "open_issue", "proposal")


@dataclass
class Hit:
    start: int
    end: int
    kind: str
    strength: float  # how clearly the cue marks an open question, 0..1
    paragraph: Paragraph
    props: list[Prop] = field(default_factory=list)
    options: list[Prop] = field(default_factory=list)  # alternatives -> multiple choice
    quoted: bool = False
    kinds: set[str] = field(default_factory=set)


_CONTRAST = re.compile(r"^(conversely|alternatively|on the other hand|by contrast|in contrast|or)\b,?\s*", re.I)
_IF_FRONT = re.compile(
    r"(?:^|[,;:—]\s*|\b(?:first|second|third|next|finally|conversely|but|and|so|yet)\b,?\s+)"
    r"(?<!even )(?<!as )if\s+(?!so\b|not\b|any\b|anything\b|at all\b)(.+?),\s*(?:then\s+)?(.+)$",
    re.I,
)
_IF_BACK = re.compile(
    r"^(.+?\b(?:would|will|could|might|may)\b.+?)\s+(?<!even )(?<!as )if\s+(?!so\b|not\b|any\b)(.+)$", re.I
)
_MODAL = re.compile(r"\b(would|will|could|might|may|is likely to)\b", re.I)
_SHOW = re.compile(
    r"^(.+?)\s+(?:would|will|could|might)\s+(?:show|indicate|signal|demonstrate|suggest|reveal|confirm|"
    r"mean|be an? (?:indication|sign|signal|test|clear sign))\b",
    re.I,
)
_EFFORT = re.compile(
    r"^(?:a|an|the|any)\s+(joint\s+|concerted\s+|new\s+)?(?:([A-Z][\w.]*)\s+)?"
    r"(?:effort|move|decision|attempt|initiative|push|bid|step|agreement|deal|plan|campaign)"
    r"(?:\s+by\s+(.+?))?(?:\s+((?:at|in|within|through)\s+.+?))?\s+to\s+(.+)$"
)
_NOMINAL_SUBJECT = re.compile(
    r"^([A-Z][a-z]+)\s+(engagement|cooperation|involvement|presence|investment|role)\s+"
    r"(with|in|to|toward|towards|on)\s+(.+)$"
)
_NEGATED_CLAIM = re.compile(
    r"\b((?:the\s+)?[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*)\s+(?:would|will|could)\s+(?:never|not)\s+"
    r"([a-z]+)\s+(.+?)(?=\s+and\s+it\b|\s+and\s+(?:that|this)\b|[,;]|$)"
)
_WHETHER = re.compile(
    r"\b(?:remains? to be seen|(?:is|are|remains?|it's|still)\s+(?:far from\s+)?(?:unclear|uncertain|not clear|"
    r"undecided|an open question|in doubt)|the (?:big |key |open )?question (?:is|of)|depends on|"
    r"will (?:decide|determine)|yet to decide|debating|weighing|to watch)\s+(?:is\s+)?"
    r"(whether|if)\s+(.+)$",
    re.I,
)
_UNCLEAR_WH = re.compile(
    r"\b(?:remains?|is|are|still)\s+(?:unclear|uncertain|not clear)\s+(what|how|which|who|when)\b", re.I
)
_PROSPECT = re.compile(r"\bthe prospects? (?:of|for)\s+(.+)$", re.I)
_LIKELY = re.compile(
    r"^(.*?)\b(?:is|are|seems?|appears?|looks?)\s+(?:very\s+|highly\s+|increasingly\s+|now\s+)?"
    r"(unlikely|likely|expected|set|poised|due|scheduled|slated|certain|bound)\s+to\s+([a-z]+)\s*(.*)$"
)
_YET = re.compile(r"^(.*?)\b(?:has|have)\s+(?:yet|still)\s+to\s+([a-z]+)\s*(.*)$")
_TOO_EARLY = re.compile(r"\btoo (?:early|soon) to (?:speak of|talk of|talk about|discuss|consider)\s+(.+)$", re.I)
_TOO_EARLY_V = re.compile(r"\btoo (?:early|soon) to\s+([a-z]+)\s+(.+)$", re.I)
_NO_RUSH = re.compile(
    r"\b(?:not expedient to rush|in no (?:hurry|rush)|no (?:hurry|rush)|not (?:in a )?hurry|"
    r"reluctant|hesitant|unwilling)”?\s*(?:to|”\s*to)\s+([a-z]+)\s+(.+)$",
    re.I,
)
_CAUTIOUS = re.compile(r"\b(?:cautious|hesitant|wary|reluctant) (?:about|of|on)\s+(.+)$", re.I)
_PROPOSE_NOMINAL = re.compile(
    r"\b(?:proposed|proposes|proposing|suggested|suggests|urged|urging|urges|called for|calls for|"
    r"calling for|pushed for|pushing for|pressed for|advocated|floated|demanded|demanding)\s+"
    r"(?:the\s+)?(creation|establishment|formation|launch|adoption|introduction|construction)\s+of\s+(.+)$",
    re.I,
)
_PROPOSE_THAT = re.compile(
    r"\b(?:proposed|proposes|recommended|recommends|urged|demanded|insisted)\s+that\s+(.+)$", re.I
)
_PROPOSE_TO = re.compile(
    r"^(.*?)\b(?:(?:has|have|had)\s+)?(?:proposed|proposes|plans|planned|is planning|are planning|intends|intended|aims|hopes|"
    r"has offered|have offered|offered|pledged|pledges|promised|promises|vowed|vows|threatened|threatens|"
    r"is considering whether|is preparing|are preparing|is seeking|are seeking|seeks|wants|has asked|asked)\s+to\s+"
    r"([a-z]+)\s+(.+)$"
)
_EXPLORE = re.compile(r"\bto (?:explore|study|consider|examine)\s+([a-z]+ing)\s+(.+)$", re.I)
_PENDING = re.compile(
    r"\b(?:is|are|remains?)\s+(?:still\s+)?(?:pending|awaiting|under (?:consideration|review|negotiation)|"
    r"before (?:parliament|congress|the (?:senate|house|court|assembly)))\b",
    re.I,
)
_INDICATOR_SENT = re.compile(
    r"\b(?:will|would) (?:provide (?:key )?indications?|show (?:which|whether|how)|be a (?:key )?(?:test|indicator|signal|bellwether))|"
    r"\bkey indicators?\b|\bworth watching\b|\bwatch (?:for|whether)\b|\bsignpost",
    re.I,
)
_ANNOUNCE = re.compile(
    r"\b(?:two|three|four|five|six|several|a few|some|the following)\s+(?:areas|things|signs|indicators|"
    r"questions|developments|factors|issues|signposts|points|events)\b",
    re.I,
)
_LOCATION = re.compile(
    r"\bat (?:the )?[A-Z][\w-]+(?:\s+(?:air ?base|airbase|base|airport|port|facility|camp|plant|site))?"
    r"(?:\s+in\s+[A-Z][\w-]+)?"
)
_CLAUSE_SPLIT = re.compile(r",\s*(?:but|and|so|while|as|although|though)?\s*|\b(?:that|but|while|because|since)\s+")


def _strip_quotes(s: str) -> str:
    return s.strip().strip("“”\"'‘’ ")


def _subject_before(prefix: str, ctx: Context) -> str | None:
    parts = [p for p in _CLAUSE_SPLIT.split(prefix) if p and p.strip()]
    if not parts:
        return None
    return resolve_subject(clean_phrase(parts[-1]), ctx)


def _prop(subject: str | None, verb_token: str, rest: str, source: str, adverb: str = "") -> Prop | None:
    if not subject:
        return None
    # The patterns that call this put ``verb_token`` right after "to", so it
    # is a verb even when the word list does not know it.
    verb = base_form(verb_token) or (verb_token if re.fullmatch(r"[a-z][a-z-]+", verb_token) else None)
    if not verb:
        return None
    return Prop(subject=subject, verb=verb, rest=clean_phrase(rest), adverb=adverb, source=source)


def _is_quoted_question(s: str) -> bool:
    """A question someone is quoted asking, inside a sentence of the author's."""
    core = s.rstrip()
    if core.endswith(("?”", "?’")):
        return core.rfind("“") > 0 or core.rfind("‘") > 0
    if core.endswith('?"'):
        return core.find('"') > 0
    return False


def analyse_sentence(s: str, ctx: Context) -> list[tuple[str, float, Prop | None, list[Prop]]]:
    """(kind, strength, proposition, alternatives) for each cue in one sentence."""
    out: list[tuple[str, float, Prop | None, list[Prop]]] = []
    core = _CONTRAST.sub("", s.strip())
    core = re.sub(
        r"^(?:first|second|third|fourth|fifth|next|finally|lastly|also|moreover|thus far|so far)\s*,\s*",
        "",
        core,
        flags=re.I,
    )
    plain = core.rstrip().rstrip("”\"'’)]").rstrip()

    # Explicit questions.
    if plain.endswith("?") and len(plain.split()) >= 5:
        quoted = _is_quoted_question(s)
        prop = parse_question(plain, ctx) if not quoted else None
        wh = re.match(r"(?i)^(?:but\s+|and\s+)?(why|how|what|who|when|where)\b", _strip_quotes(plain))
        if wh and not quoted:
            prop = None
        strength = 0.25 if quoted else (0.5 if wh else 0.85)
        out.append(("explicit_question", strength, prop, []))

    # Conditionals: "if X, this would show Y" and "a move to X would show Y".
    m = _IF_FRONT.search(plain)
    if m and _MODAL.search(m[2]):
        out.append(("conditional", 0.85, parse_clause(m[1], ctx, "conditional"), []))
    else:
        m = _IF_BACK.search(plain)
        if m:
            out.append(("conditional", 0.75, parse_clause(m[2], ctx, "conditional"), []))
    m = _SHOW.search(plain)
    if m:
        e = _EFFORT.match(m[1].strip())
        if e:
            subj = None
            if e[3]:
                subj = resolve_subject(e[3], ctx)
            elif e[2] and e[2].lower() in DEMONYMS:
                subj = DEMONYMS[e[2].lower()]
            rest = e[5]
            prop = None
            if subj:
                toks = rest.split()
                verb = base_form(toks[0].strip(",")) if toks else None
                if verb:
                    tail = clean_phrase(" ".join(toks[1:]))
                    if e[4]:
                        tail = f"{tail} {clean_phrase(e[4])}".strip()
                    adverb = "jointly" if (e[1] or "").strip() == "joint" and " and " in subj else ""
                    prop = Prop(subject=subj, verb=verb, rest=tail, adverb=adverb, source="effort")
            out.append(("conditional", 0.8, prop, []))
        else:
            n = _NOMINAL_SUBJECT.match(m[1].strip())
            if n and n[1].lower() in DEMONYMS:
                prop = Prop(
                    subject=DEMONYMS[n[1].lower()],
                    verb="deepen",
                    rest=clean_phrase(f"its {n[2]} {n[3]} {n[4]}"),
                    source="nominal",
                )
                out.append(("indicator", 0.6, prop, []))

    # Open issues.
    m = _WHETHER.search(plain)
    if m:
        clause = m[2]
        alts = alternatives("whether " + clause)
        options: list[Prop] = []
        if alts:
            first = parse_clause(alts[0], ctx, "whether")
            if first:
                second = second_option(first, alts[1], ctx, "whether")
                if second:
                    options = [first, second]
        prop = None
        neg = _NEGATED_CLAIM.search(plain[: m.start()])
        if neg:
            prop = _prop(resolve_subject(neg[1], ctx), neg[2], neg[3], "negated")
        if prop is None:
            prop = parse_clause(clause, ctx, "whether")
        out.append(("open_issue", 0.9, prop, options))
    elif _UNCLEAR_WH.search(plain):
        out.append(("open_issue", 0.5, None, []))
    m = _PROSPECT.search(plain)
    if m:
        agent = actor(plain[: m.start()])
        prop = gerund_phrase(m[1], None, ctx, "prospect") or nominal_phrase(m[1], agent, ctx, "prospect")
        out.append(("open_issue", 0.75, prop, []))
    m = _LIKELY.search(plain)
    if m and m[1].strip():
        subj = _subject_before(m[1], ctx)
        prop = _prop(subj, m[3], m[4], "likely")
        out.append(
            (
                "open_issue",
                0.7 if m[2] in {"unlikely", "expected", "set", "due", "scheduled", "slated"} else 0.55,
                prop,
                [],
            )
        )
    m = _YET.search(plain)
    if m and m[1].strip():
        out.append(("open_issue", 0.75, _prop(_subject_before(m[1], ctx), m[2], m[3], "yet"), []))
    m = _TOO_EARLY.search(plain)
    if m:
        out.append(("open_issue", 0.8, nominal_phrase(m[1], actor(plain), ctx, "too early"), []))
    else:
        m = _TOO_EARLY_V.search(plain)
        if m:
            out.append(("open_issue", 0.7, _prop(actor(plain), m[1], m[2], "too early"), []))
    m = _NO_RUSH.search(plain)
    if m:
        out.append(("open_issue", 0.75, _prop(actor(plain), m[1], m[2], "no rush"), []))
    m = _CAUTIOUS.search(plain)
    if m:
        prop = gerund_phrase(m[1], actor(plain[: m.start()]), ctx, "cautious")
        out.append(("open_issue", 0.65, prop, []))

    # Proposals whose outcome is pending.
    m = _PROPOSE_NOMINAL.search(plain)
    if m:
        out.append(
            ("proposal", 0.85, nominal_phrase(f"the {m[1].lower()} of {m[2]}", actor(plain), ctx, "proposal"), [])
        )
    m = _PROPOSE_THAT.search(plain)
    if m:
        out.append(("proposal", 0.75, parse_clause(m[1], ctx, "proposal"), []))
    m = _PROPOSE_TO.search(plain)
    if m and m[1].strip():
        subj = _subject_before(m[1], ctx)
        out.append(("proposal", 0.7, _prop(subj, m[2], m[3], "proposal"), []))
    m = _EXPLORE.search(plain)
    if m:
        prop = gerund_phrase(f"{m[1]} {m[2]}", actor(plain[: m.start()]), ctx, "explore")
        if prop and not re.search(r"\b[A-Z]", prop.rest):
            loc = _LOCATION.search(ctx.previous_sentence)
            if loc:
                prop = Prop(subject=prop.subject, verb=prop.verb, rest=f"{prop.rest} {loc[0]}", source=prop.source)
        out.append(("proposal", 0.7, prop, []))
    if _PENDING.search(plain):
        out.append(("proposal", 0.6, parse_clause(plain, ctx, "pending"), []))

    if _INDICATOR_SENT.search(plain) and not _ANNOUNCE.search(plain):
        out.append(("indicator", 0.6, None, []))
    return out


def _context(seg: Segmented, para: Paragraph, sent_index: int) -> Context:
    text = seg.doc.text
    sec = seg.sections[para.section_index]
    sent = para.sentences[sent_index]
    prev = para.sentences[sent_index - 1] if sent_index > 0 else None
    before = text[max(sec.start, sent.start - 3000) : sent.start]
    return Context(
        before=before,
        previous_sentence=text[prev.start : prev.end] if prev else "",
        sentence=text[sent.start : sent.end],
    )


def _item_prop(body: str, ctx: Context) -> tuple[Prop | None, list[Prop]]:
    """A watch-list item written as "Whether X", "If X" or a plain clause."""
    b = clean_phrase(re.sub(r"^\*\*([^*]+)\*\*[:.]?\s*", r"\1: ", body))
    b = re.sub(r"^[^:]{1,60}:\s+", "", b) if re.match(r"^[^:]{1,60}:\s+\S", b) else b
    m = re.match(r"(?i)^(?:whether|if)\s+(.+)$", b)
    if m:
        alts = alternatives("whether " + m[1])
        if alts:
            first = parse_clause(alts[0], ctx, "item")
            second = second_option(first, alts[1], ctx, "item") if first else None
            if first and second:
                return first, [first, second]
        return parse_clause(m[1], ctx, "item"), []
    first_sentence = re.split(r"(?<=[.!?])\s+", b)[0]
    prop = parse_clause(first_sentence, ctx, "item")
    if prop is None:
        prop = nominal_phrase(first_sentence[:1].lower() + first_sentence[1:], None, ctx, "item")
    return prop, []


def detect(seg: Segmented) -> list[Hit]:
    text = seg.doc.text
    hits: list[Hit] = []
    for para in seg.paragraphs:
        if para.kind == "heading" or not para.sentences:
            continue
        sentence_hits: list[Hit] = []
        para_props: list[tuple[Prop, bool]] = []  # (prop, introduced by a contrast marker)
        option_sets: list[list[Prop]] = []
        for i, sent in enumerate(para.sentences):
            s = text[sent.start : sent.end]
            ctx = _context(seg, para, i)
            contrast = bool(_CONTRAST.match(s.strip()))
            cues = analyse_sentence(s, ctx)
            if not cues and sentence_frame(s, watch=para.watch and i == 0, before=ctx.previous_sentence, ctx=ctx):
                cues = [("open_issue", 0.6, None, [])]  # a quantity or a date to watch (numeric.py)
            for kind, strength, prop, options in cues:
                prop = finish(prop, ctx) if prop else None
                options = [finish(o, ctx) for o in options]
                h = Hit(
                    sent.start,
                    sent.end,
                    kind,
                    strength,
                    para,
                    props=[prop] if prop else [],
                    options=options,
                    quoted=kind == "explicit_question" and strength < 0.3,
                    kinds={kind},
                )
                sentence_hits.append(h)
                if prop:
                    para_props.append((prop, contrast))
                if options:
                    option_sets.append(options)
        if para.watch and (para.enumerated or sentence_hits):
            if not para.enumerated and _ANNOUNCE.search(text[para.start : para.end]) and not para_props:
                continue
            props = [p for p, _ in para_props]
            options = option_sets[0] if option_sets else []
            contrasted = [p for p, c in para_props if c]
            if not options and contrasted and props and props[0] is not contrasted[0]:
                options = [props[0], contrasted[0]]
            if para.kind == "item" and not props:
                ctx = _context(seg, para, 0)
                p, opts = _item_prop(text[para.start : para.end], ctx)
                if p:
                    props = [finish(p, ctx)]
                options = options or [finish(o, ctx) for o in opts]
            kinds = {h.kind for h in sentence_hits} | {"indicator"}
            hits.append(
                Hit(
                    para.start,
                    para.end,
                    "indicator",
                    0.9 if para.enumerated else 0.7,
                    para,
                    props=props,
                    options=options,
                    kinds=kinds,
                )
            )
            continue
        hits.extend(sentence_hits)
    return hits


def group_hits(hits: list[Hit]) -> list[Hit]:
    """One hit per passage: cues found in the same sentence become one."""
    by_span: dict[tuple[int, int], Hit] = {}
    order = {k: i for i, k in enumerate(("conditional", "explicit_question", "proposal", "open_issue", "indicator"))}
    for h in hits:
        key = (h.start, h.end)
        if key not in by_span:
            by_span[key] = h
            continue
        cur = by_span[key]
        merged_props = cur.props + [p for p in h.props if p not in cur.props]
        best = (
            h
            if (h.props and not cur.props) or (bool(h.props) == bool(cur.props) and order[h.kind] < order[cur.kind])
            else cur
        )
        by_span[key] = Hit(
            cur.start,
            cur.end,
            best.kind if cur.kind != "indicator" or best.props else cur.kind,
            max(cur.strength, h.strength),
            cur.paragraph,
            props=(best.props + [p for p in merged_props if p not in best.props]),
            options=cur.options or h.options,
            quoted=cur.quoted and h.quoted,
            kinds=cur.kinds | h.kinds,
        )
    return list(by_span.values())


def sentence_spans(hits: list[Hit]) -> list[Span]:
    return [Span(h.start, h.end) for h in hits]
