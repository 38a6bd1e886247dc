"""Numeric and date drafts: when a passage names a quantity to watch, ask for the quantity.

A passage names a quantity to watch when one of its sentences

- asks for it: "How many refugees will Tajikistan take in?", "It remains to be seen how much China
  will invest in Kazakhstan", "What share of Kazakhstan's imports will come from China?";
- asks when something happens: "When will Russia reopen its embassy?", "It is unclear when the
  border will reopen" (a date question);
- makes a measure the subject of a forecast or of a watch: "Trade between China and Kazakhstan
  could reach $50 billion by 2025", "Officials expect it to double", "Watch the number of Russian
  troops in Tajikistan", or a watch-list item that starts with one ("- China's share of
  Kazakhstan's imports, now 40%");
- or has an actor set to move an amount: "Russia has pledged to send 3,000 more troops to
  Tajikistan" ("How many troops will Russia send to Tajikistan by ...?").

A sentence that asks a yes/no question ("whether", "if", "Will ...?") keeps its binary draft, and
the first sentence of a passage that decides one way or the other wins.

Ranges. With figures quoted for the quantity (in the sentence, else the passage, else its
paragraph), the range runs from half the smallest to twice the largest, rounded outwards to two
significant digits, open at both ends (a percentage is closed at 100). Without one, each kind of
quantity has a documented default (:data:`KINDS`), closed at 0 and open above, and the criteria ask
the admin to check it. A date question runs from the day the question opens to
:data:`DATE_EXTRA_YEARS` after it closes, closed below and open above ("not by then").

Periods. Each kind says whether its figure is yearly (trade, investment, shares: "... in 2028", the
close's year), a level on a day (troops, refugees, prices: "... on <close>", the latest figure
published by then) or a total over the question's life (aid, visits, agreements: counted from the
open to the close). A question that names its own year ("How many cars will Russia import in
2025?") asks about that year and closes when it ends; a figure quoted per week or day ("40 flights
a week") is read as a level.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field, replace

from .clause import Context, Prop, clean_phrase, entities, parse_clause, parse_question
from .draft import EVIDENCE, MAX_TITLE, shorten, source_note, terms_note
from .figures import Figure, format_number, nice_ceil, nice_floor, parse_figures
from .lexicon import DEMONYMS, MEASURE_HEADS, MODALS, QUANTITY_NOUNS, base_form
from .model import Draft

#: A date question's range ends this many years after its close.
DATE_EXTRA_YEARS = 2
#: The longest unit a question stores (Question.unit).
UNIT_MAX = 40
#: Without a published figure this long after the close, a numeric question is annulled.
PUBLICATION_GRACE_DAYS = 365


@dataclass(frozen=True)
class Kind:
    """A kind of quantity: how it is measured, its default range and where it is published."""

    name: str
    measure: str  # "currency" | "percent" | "count"
    unit: str  # the default unit ("USD bn", "%", "troops")
    default: tuple[float, float]  # the default range, in ``unit``
    period: str  # "year" (a yearly figure), "stock" (a level on a day), "window" (a total over the question's life)
    source: str
    label: str  # for the criteria: "trade", "refugee numbers"
    nouns: tuple[str, ...] = ()  # the QUANTITY_NOUNS spellings a figure counts in this kind


_OFFICIAL = "the official figures of the government or organisation concerned"
KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "trade",
            "currency",
            "USD bn",
            (0, 100),
            "year",
            "the official customs statistics of the countries concerned or the UN Comtrade database (comtrade.un.org)",
            "trade",
            ("trade", "exports", "imports"),
        ),
        Kind(
            "investment",
            "currency",
            "USD bn",
            (0, 10),
            "year",
            "UNCTAD's World Investment Report or the central bank of the country receiving the investment",
            "investment",
            ("investment",),
        ),
        Kind(
            "aid",
            "currency",
            "USD m",
            (0, 1000),
            "window",
            "the OCHA Financial Tracking Service (fts.unocha.org), or an official statement by the donor",
            "aid",
            ("aid", "loans"),
        ),
        Kind("amount", "currency", "USD m", (0, 1000), "window", _OFFICIAL, "an amount of money"),
        Kind(
            "price",
            "currency",
            "USD",
            (0, 100),
            "stock",
            "the exchange or statistics office that publishes the benchmark price",
            "a price",
        ),
        Kind(
            "share",
            "percent",
            "%",
            (0, 100),
            "year",
            "the national statistics office of the country concerned",
            "a share",
        ),
        Kind(
            "refugees",
            "count",
            "people",
            (0, 1_000_000),
            "stock",
            "UNHCR's refugee data (data.unhcr.org)",
            "refugee numbers",
            ("refugees", "migrants", "people"),
        ),
        Kind(
            "troops",
            "count",
            "troops",
            (0, 10_000),
            "stock",
            "official statements by the governments concerned or the IISS Military Balance",
            "troop numbers",
            ("troops",),
        ),
        Kind(
            "flights",
            "count",
            "flights",
            (0, 1000),
            "year",
            "the airlines' published schedules or the civil aviation authorities concerned",
            "flight numbers",
            ("flights",),
        ),
        Kind(
            "visits",
            "count",
            "visits",
            (0, 20),
            "window",
            "the official announcements of the foreign ministries concerned",
            "visits",
            ("visits",),
        ),
        Kind(
            "agreements",
            "count",
            "agreements",
            (0, 20),
            "window",
            "the official announcements of the governments concerned or the UN Treaty Collection (treaties.un.org)",
            "agreements",
            ("agreements",),
        ),
        Kind(
            "freight",
            "count",
            "tonnes",
            (0, 10_000_000),
            "year",
            "the official statistics of the transport ministries or operators concerned",
            "freight volumes",
            ("tonnes",),
        ),
        Kind(
            "trade_volume",
            "count",
            "tonnes",
            (0, 10_000_000),
            "year",
            "the official customs statistics of the countries concerned or the UN Comtrade database (comtrade.un.org)",
            "trade volumes",
            ("tonnes", "barrels"),
        ),
        Kind("count", "count", "", (0, 1000), "stock", _OFFICIAL, "a count"),
    )
}
_NOUN_KIND = {
    "trade": "trade",
    "exports": "trade",
    "imports": "trade",
    "turnover": "trade",
    "investment": "investment",
    "fdi": "investment",
    "aid": "aid",
    "loans": "aid",
    "lending": "aid",
    "refugees": "refugees",
    "migrants": "refugees",
    "troops": "troops",
    "flights": "flights",
    "visits": "visits",
    "agreements": "agreements",
    "tonnes": "freight",
    "freight": "freight",
    "cargo": "freight",
}
_MONEY_VERBS = {
    "invest": "investment",
    "lend": "aid",
    "loan": "aid",
    "donate": "aid",
    "pledge": "amount",
    "give": "amount",
    "provide": "amount",
    "send": "amount",
    "allocate": "amount",
    "spend": "amount",
    "pay": "amount",
    "raise": "amount",
    "earn": "amount",
    "cost": "amount",
    "export": "trade",
    "import": "trade",
    "trade": "trade",
}
_STOCK_VERBS = {
    "have",
    "keep",
    "station",
    "host",
    "hold",
    "maintain",
    "number",
    "be",
    "remain",
    "stay",
    "count",
    "base",
}


# --- Sentences --------------------------------------------------------------------------------

_LEAD_IN = re.compile(
    r"^(?:\*\*[^*]{1,60}\*\*[:.]?\s*|[A-Z][^:.?!]{0,50}:\s+(?=\S)|"
    r"(?:first|second|third|fourth|fifth|next|then|finally|lastly|also|moreover|meanwhile|in particular|"
    r"above all|conversely|by contrast|and|but|so|yet|still)\b,?\s+|"
    r"(?:in|over|during|by|for|within|across|beyond|after)\s+[^,]{1,40},\s+)",
    re.I,
)
_YES_NO_Q = re.compile(
    r"^(?:but|and|so|yet|or|then|now)?\s*,?\s*(?:does|do|did|is|are|was|were|can|could|will|would|should|might|"
    r"may|must|has|have|had)\b.*\?[”\"’']*$",
    re.I,
)
_IF_CLAUSE = re.compile(r"(?<!\beven )(?<!\bas )(?<!\bwhat )\bif\s+(?!so\b|not\b|any\b|at all\b|anything\b)", re.I)
_WHETHER = re.compile(r"\bwhether\b", re.I)


def core(sentence: str) -> str:
    """The sentence without its list marker, bold label or lead-in ("First,", "In 2025,")."""
    s = sentence.strip().strip('“”"')
    for _ in range(3):
        t = _LEAD_IN.sub("", s, count=1)
        if t == s:
            break
        s = t
    return s.strip()


def asks_yes_no(sentence: str) -> bool:
    """A yes/no question, a "whether" or an "if" clause: such passages keep their binary draft."""
    c = core(sentence)
    return bool(_WHETHER.search(c) or _IF_CLAUSE.search(c) or _YES_NO_Q.match(c))


# --- Measures ---------------------------------------------------------------------------------

_HEADS = "|".join(sorted(MEASURE_HEADS, key=len, reverse=True))
_POSS = r"(?:(?:the\s+)?(?:[A-Z][\w.’'-]*\s+){0,3}[A-Z][\w.-]*(?:’s|'s)\s+|(?:the|its|their|his|her|our)\s+)"
_ADJ = (
    r"(?:(?:[A-Z][\w-]+|(?i:annual|total|overall|monthly|weekly|average|combined|bilateral|two-way|foreign|"
    r"direct|humanitarian|military|economic|development|official|net|daily|yearly|scheduled|direct))\s+){0,3}"
)
_MEASURE_OF = re.compile(rf"^(?P<pre>{_POSS}?{_ADJ})(?P<head>(?i:{_HEADS}))\s+of\s+")
_MEASURE_NOUN = re.compile(
    rf"^(?P<pre>{_POSS}?{_ADJ})(?P<head>(?i:trade(?:\s+(?:volumes?|turnover))?|exports|imports|investments?|FDI|"
    r"aid|assistance|lending|loans|refugee\s+numbers|troop\s+numbers|arrivals))"
    r"(?=\s+(?:between|with|from|to|in|into|for|on|of|will|would|could|might|may|should|can|is|are|was|were|has|"
    r"have|had|remains?|stays?|keeps?)\b|\s*[,;:.)—–]|\s*$)"
)
_TAIL_STOP = set(
    """will would could might may should can shall must is are was were has have had be been being which that
    who whom whose where when while reached reaches reach rose rise rises risen grew grow grows fell fall falls
    increased increases decreased decreases declined declines doubled doubles tripled halved exceeded exceeds
    surpassed surpasses climbed climbs dropped drops jumped jumps stood stands totalled totaled totals hit
    topped tops remained remains stayed stays put now currently already still also last according as since
    because despite although though estimated worth""".split()  # noqa: SIM905
)
_PP_WORDS = set(
    """between with from to in into for on of by at and or the a an its their his her our across within among
    against over under near via through""".split()  # noqa: SIM905
)
_FIGURE_TOKEN = re.compile(r"^(?:[$€£¥]|US\$|\d[\d,.]*(?:%|bn|mn|m|k|tn)?[,;:.!?]*$)")
_TIME_PP = re.compile(
    r"^(?:in|by|since|during|until|before|after|over|through|from|to|this|next|last)\s+"
    r"(?:(?:19|20)\d\d\b|the\s+(?:past|last|next|coming|first|second|end)\b|(?:last|next|this)\s+\w+|"
    r"recent\b|early\b|late\b|mid)",
    re.I,
)


@dataclass(frozen=True)
class Measure:
    kind: Kind
    phrase: str  # as it reads in a title: "the value of trade between China and Kazakhstan"
    noun: str  # the counted noun, for a count ("troops"), or ""
    start: int  # offsets of the phrase in the sentence it was found in
    end: int


_INFINITIVE = re.compile(r"to\s+(?:[a-z]+ly\s+)?([a-z]+)\b")


def _tail(text: str, pos: int) -> int:
    """Where a noun phrase's tail that starts at ``pos`` ends."""
    end = pos
    prev, prev_cap = "", False
    for n, m in enumerate(re.finditer(r"\S+", text[pos:])):
        tok = m[0]
        at = pos + m.start()
        word = tok.strip("“”\"'").rstrip(",;:.!?").lower()
        if tok[:1] in "(—–[" or _FIGURE_TOKEN.match(tok) or word in _TAIL_STOP or _TIME_PP.match(text[at:]):
            break
        if n and tok[:1].isupper() and not prev_cap and prev not in _PP_WORDS and not prev.endswith(("’s", "'s")):
            break  # "the amount of money China will spend": a new clause, not the phrase's tail
        inf = _INFINITIVE.match(text, at) if word == "to" else None
        if inf and base_form(inf[1]) == inf[1]:
            break  # "the number of flights ... to rise"
        end = at + len(tok.rstrip(",;:.!?”\"'"))
        prev, prev_cap = word, tok[:1].isupper()
        if tok != tok.rstrip(",;:.!?") or n >= 13:
            break
    return end


_COMMON_FIRST = (
    set(QUANTITY_NOUNS)
    | MEASURE_HEADS
    | set(
        """the its their his her our annual total overall monthly weekly average combined bilateral two-way
        foreign direct humanitarian military economic development official net daily yearly scheduled lending
        arrivals refugee troop fdi""".split()  # noqa: SIM905
    )
)


def _lower_first(phrase: str) -> str:
    """ "The number of ..." / "Bilateral trade ..." -> lower case; "China's share", "Chinese
    investment" keep their capital."""
    first = phrase.split(" ", 1)[0]
    if first.lower() in _COMMON_FIRST and not first.isupper():
        return first.lower() + phrase[len(first) :]
    return phrase


def _noun_in(text: str) -> str:
    for w in re.findall(r"[A-Za-z][\w-]*", text):
        low = w.lower()
        if low in QUANTITY_NOUNS:
            return QUANTITY_NOUNS[low]
        if low in _NOUN_KIND:
            return low
    return ""


def _count_unit(text: str) -> str:
    """The counted thing of a generic count: the first plural noun ("workers", "Afghans")."""
    for w in re.findall(r"[A-Za-z][\w-]*", text):
        if w.lower() in ("the", "a", "an", "its", "their", "of"):
            continue
        if w.endswith("s") and not w.endswith("ss") and len(w) > 3:
            return w if w[0].isupper() else w.lower()
    return ""


def measure_at(text: str, pos: int = 0) -> Measure | None:
    """A measure noun phrase starting exactly at ``pos``: "the number of Russian troops in
    Tajikistan", "China's share of Kazakhstan's imports", "trade between China and Kazakhstan",
    "Chinese investment in Kazakhstan"."""
    s = text[pos:]
    m = _MEASURE_OF.match(s)
    if m:
        head = m["head"].lower()
        end = _tail(s, m.end())
        if end <= m.end():
            return None
        obj = s[m.end() : end]
        noun = _noun_in(obj)
        if head in ("share", "proportion", "percentage", "fraction", "portion"):
            kind = KINDS["share"]
        elif head in ("price", "cost"):
            kind = KINDS["price"]
        elif noun in _NOUN_KIND:
            kind = KINDS[_NOUN_KIND[noun]]
        elif head in ("number", "numbers", "count"):
            kind = KINDS["count"]
        elif head in ("value", "amount"):
            kind = KINDS["amount"]
        else:
            return None  # "the level of cooperation", "the size of the role": not a quantity we can source
        if head in ("number", "numbers", "count", "total") and kind.measure == "count" and not noun:
            noun = _count_unit(obj)
            if not noun:
                return None
        phrase = _lower_first(s[:end])
        return Measure(kind, phrase, noun, pos, pos + end)
    m = _MEASURE_NOUN.match(s)
    if m:
        head = m["head"].lower()
        end = m.end()
        rest = s[end:]
        pp = re.match(r"\s+(?:between|with|from|to|in|into|for|on|of)\s+", rest)
        if pp:
            end = max(end, _tail(s, end + pp.end()))
        noun = _noun_in(head) or ("refugees" if "refugee" in head else "troops" if "troop" in head else "")
        kind = KINDS[_NOUN_KIND.get(noun, "count")] if noun else KINDS["count"]
        if head == "arrivals":
            kind, noun = replace(KINDS["refugees"], period="year"), "people"  # a yearly flow, not a level
        phrase = _lower_first(s[:end])
        if kind.measure == "currency":
            phrase = f"the value of {phrase}" if kind.period == "year" else f"the total of {phrase}"
        elif kind.measure == "count":
            phrase = "the number of " + re.sub(r"\b(refugee|troop) numbers\b", r"\1s", phrase)
        return Measure(kind, phrase, noun, pos, pos + end)
    return None


def find_measure(text: str) -> Measure | None:
    """The first measure noun phrase anywhere in ``text``."""
    for m in re.finditer(r"(?:(?<=\s)|^)(?=\S)", text):
        found = measure_at(text, m.start())
        if found:
            return found
    return None


# --- Frames: what the sentence asks about ---------------------------------------------------


@dataclass
class Frame:
    qtype: str  # "numeric" | "date"
    kind: Kind | None
    style: str  # "what" (a measure), "how" (How many/much ... will), "when"
    title: str  # the question without its deadline or "?"
    period: str
    noun: str = ""
    statement: str = ""  # date questions: the event, as a statement
    figures_at: tuple[int, int] = (0, 0)  # where in the sentence the measure sits (figures near it first)
    antecedent: str = ""  # a sentence before this one that holds the measure (and its figures)
    year: int | None = None  # the calendar year the question itself names ("How many ... in 2025?")
    extra: list[Figure] = field(default_factory=list)


_FORECAST_AFTER = re.compile(
    r"^(?:\s*,\s*(?:which|that|now|currently|at|already|estimated|put|worth|up|down)[^,]{0,100},)?\s+"
    r"(?:(?:will|would|could|might|may|should|can|is\s+going\s+to|are\s+going\s+to)\s+"
    r"|(?:is|are)\s+(?:also\s+|now\s+|still\s+)?(?:(?:un)?likely|expected|projected|forecast|set|poised|on\s+track|"
    r"due|bound)\s+to\s+)"
    r"(?:also\s+|still\s+|probably\s+|now\s+|not\s+|never\s+)?(?:continue\s+to\s+|keep\s+)?(?P<verb>[a-z]+)",
    re.I,
)
_WATCH_VERB = re.compile(
    r"\b(?:watch(?:ing)?|track(?:ing)?|follow(?:ing)?|monitor(?:ing)?|keep(?:ing)?\s+an\s+eye\s+on|look(?:ing)?\s+at|"
    r"key\s+(?:figure|number|indicator|metric)s?\s+(?:is|are|will\s+be))\s+(?:closely\s+)?",
    re.I,
)
_EXPECT = re.compile(
    r"\b(?:expects?|expected|forecasts?|projects?|projected|predicts?|predicted|anticipates?|anticipated|"
    r"sees?|want|wants|aim\s+for|aims\s+for|hopes?)\s+(?:that\s+)?",
    re.I,
)
_PRONOUN_FORECAST = re.compile(
    r"^(?:it|this\s+figure|that\s+figure|the\s+figure|this\s+total|the\s+total|this\s+number)\s*"
    r"(?:\s+(?:to|will|would|could|might|may|should)\s+|(?=\s+(?:is|are)\s+(?:\w+\s+)?(?:likely|expected|set|projected)\s+to\b))",
    re.I,
)

_WH = r"how\s+many|how\s+much|what\s+(?:share|proportion|percentage|fraction|portion|part)\s+of|when"
_WH_DIRECT = re.compile(rf"^(?P<wh>{_WH})\s+(?P<body>.+?)\s*\?[”\"’')]*$", re.I)
_WH_EMBEDDED = re.compile(
    r"\b(?:remains?\s+to\s+be\s+seen|(?:is|are|remains?|still|it's)\s+(?:far\s+from\s+|not\s+yet\s+|also\s+)?"
    r"(?:unclear|uncertain|not\s+clear|an\s+open\s+question|undecided|unknown|hard\s+to\s+(?:say|tell|know|predict))|"
    r"the\s+(?:big\s+|key\s+|open\s+|real\s+|main\s+)?questions?\s+(?:is|are|remains?)|depends?\s+on|"
    r"will\s+(?:decide|determine|show|tell|reveal)|(?:worth|keep)\s+(?:watching|an\s+eye\s+on)|to\s+watch(?:\s+is)?|"
    r"watch(?:ing)?|track(?:ing)?|follow(?:ing)?|monitor(?:ing)?|(?:no\s+one|nobody)\s+(?:knows|can\s+say)|"
    rf"wonders?|wondering|asks?|asking)\s+(?P<wh>{_WH})\s+(?P<body>.+)$",
    re.I,
)
_WH_ITEM = re.compile(rf"^(?P<wh>{_WH})\s+(?P<body>.+)$", re.I)
_WHAT_WILL = re.compile(r"^what\s+will\s+(?P<np>.+?)\s+(?:be|look\s+like|amount\s+to|total|reach)\b", re.I)
_HEDGES = re.compile(
    r",?\s*\b(?:(?:this|next|the\s+coming|coming)\s+(?:year|month|week|summer|winter|spring|autumn|fall|decade)|"
    r"in\s+the\s+(?:coming|next)\s+(?:few\s+)?(?:days|weeks|months|years)|any\s?time\s+soon|soon|eventually|"
    r"in\s+the\s+(?:near|foreseeable)\s+future|at\s+all|in\s+the\s+end|if\s+ever)\b",
    re.I,
)
_DETERMINERS = {"the", "a", "an", "its", "their", "his", "her", "this", "that", "these", "those", "our", "any"}


def _clause(body: str) -> str:
    """An embedded clause trimmed to its own end, without hedges or trailing punctuation."""
    body = clean_phrase(body, cut=False)
    body = re.split(
        r",\s*(?:and|but|while|which|who|as|although|though|since|because|after|before|when|until|despite|"
        r"following|amid|with|given|even|not|according)\b|;|\s[—–]\s|:\s",
        body,
    )[0]
    body = _HEDGES.sub("", body)
    return re.sub(r"[\s,;:.!?]+$", "", body).strip()


def _is_name(tok: str) -> bool:
    w = tok.strip("“”\"'(),")
    return bool(w) and w[0].isupper() and w.lower() not in DEMONYMS and not w.endswith(("’s", "'s"))


def _invert(wh: str, body: str) -> tuple[str, str, str, str] | None:
    """An embedded "how many refugees Tajikistan will accept" -> (wh words "refugees",
    subject "Tajikistan", verb "accept", rest ""): the parts of "How many refugees will
    Tajikistan accept". None when no verb can be found."""
    toks = _clause(body).split()
    if not toks:
        return None
    i = 0
    if wh != "when":
        while i < len(toks):
            t = toks[i]
            low = t.lower().strip(",")
            if low in MODALS or low in _DETERMINERS:
                break
            if i > 0 and base_form(low) and low not in QUANTITY_NOUNS:
                break
            if _is_name(t) and not (i == 0 and wh.startswith("what")):
                break
            i += 1
    noun_words = toks[:i]
    for j in range(i, len(toks)):
        low = toks[j].lower()
        if low in MODALS:
            subject, verb, rest = toks[i:j], toks[j + 1 : j + 2], toks[j + 2 :]
            if not verb:
                return None
            return " ".join(noun_words), " ".join(subject), verb[0], " ".join(rest)
        if low in ("is", "are") and toks[j + 1 : j + 3] and " ".join(toks[j + 1 : j + 3]).lower() == "going to":
            subject, verb, rest = toks[i:j], toks[j + 3 : j + 4], toks[j + 4 :]
            if not verb:
                return None
            return " ".join(noun_words), " ".join(subject), verb[0], " ".join(rest)
    for j in range(i, len(toks)):
        tok = toks[j]
        b = base_form(tok.strip(",")) if tok[:1].islower() else None
        if b:
            if j == i and not noun_words:
                return None  # no subject: "when reopening ..."
            return " ".join(noun_words), " ".join(toks[i:j]), b, " ".join(toks[j + 1 :])
    return None


def _money_kind(noun_words: str, verb: str) -> Kind | None:
    noun = _noun_in(noun_words)
    if noun in _NOUN_KIND and KINDS[_NOUN_KIND[noun]].measure == "currency":
        return KINDS[_NOUN_KIND[noun]]
    if noun_words.strip():
        return None  # "how much influence", "how much time": not money
    b = base_form(verb) or verb
    return KINDS[_MONEY_VERBS[b]] if b in _MONEY_VERBS else None


def _wh_frame(wh: str, body: str, direct: bool, ctx: Context) -> Frame | None:
    wh = " ".join(wh.lower().split())
    if direct:
        q = _clause(body)
        if re.match(r"(?i)^(?:did|was|were|had)\b", q):
            return None  # a question about the past
        q = re.sub(r"(?i)^(?:does|do)\s+", "will ", q)
        q = re.sub(r"(?i)^(?:would|could|might|can|shall|should)\s+", "will ", q)
        if wh == "when":
            prop = parse_question(f"{q}?", ctx)
            if prop is None or prop.subject.lower() == "there":
                return None
            return _date_frame(prop)
        m = re.match(r"(?i)^(?P<nw>.*?)\b(?P<modal>will|would|could|might|can|does|do)\s+(?P<rest>.+)$", q)
        if not m:
            return None
        noun_words, rest = m["nw"].strip(), m["rest"].strip()
        toks = rest.split()
        # "will Tajikistan take in" (subject then verb) or "will cross" (the wh words are the subject)
        verb = next((base_form(t) for t in toks if t[:1].islower() and base_form(t)), "")
        title_body = f"{noun_words} will {rest}".strip()
        return _how_frame(wh, noun_words, verb, title_body)
    inv = _invert(wh, body)
    if inv is None:
        return None
    noun_words, subject, verb, rest = inv
    if wh == "when":
        prop = parse_clause(f"{subject} will {verb} {rest}", ctx, "when")
        if prop is None:
            return None
        return _date_frame(prop)
    b = base_form(verb) or verb
    parts = [noun_words, "will", subject, b, rest]
    return _how_frame(wh, noun_words, b, " ".join(p for p in parts if p))


def _how_frame(wh: str, noun_words: str, verb: str, title_body: str) -> Frame | None:
    b = base_form(verb) or verb
    if wh == "how many":
        if not noun_words:
            return None
        noun = _noun_in(noun_words)
        kind = KINDS[_NOUN_KIND[noun]] if noun in _NOUN_KIND and KINDS[_NOUN_KIND[noun]].measure == "count" else None
        if kind is None:
            unit = noun or _count_unit(noun_words) or noun_words.split()[-1]
            kind = KINDS["count"]
            noun = unit
        lead = "How many"
    elif wh == "how much":
        if re.match(r"(?i)^(?:longer|further|more|less|time|influence|leverage|power|support|progress)\b", noun_words):
            return None
        kind = _money_kind(noun_words, b)
        if kind is None:
            return None
        noun = ""
        lead = "How much"
    else:
        kind, noun = KINDS["share"], ""
        lead = wh[:1].upper() + wh[1:]
    period = "year" if kind.name == "share" else "stock" if b in _STOCK_VERBS else "window"
    title = f"{lead} {title_body}".replace("  ", " ").strip()
    named = re.search(r"\b(?:in|during|for|over)\s+((?:19|20)\d\d)$", title)
    return Frame("numeric", kind, "how", title, period, noun=noun, year=int(named[1]) if named else None)


def _date_frame(prop: Prop) -> Frame | None:
    if not prop.subject or prop.subject.lower() in ("it", "they", "there", "this", "that"):
        return None
    return Frame("date", None, "when", f"When will {prop.question_body()}", "date", statement=prop.statement())


def _measure_frame(c: str, *, watch: bool, before: str) -> Frame | None:
    """A measure as the subject of a forecast, the object of a watch, or (in a watch list) the
    topic of the item."""
    m = _WHAT_WILL.match(c)
    if m:
        meas = measure_at(m["np"])
        if meas and meas.end - meas.start >= len(m["np"]) - 1:
            return _frame_of(meas, m.start("np"))
    meas = measure_at(c)
    if meas is not None and (watch or _FORECAST_AFTER.match(c[meas.end :])):
        return _frame_of(meas, 0)
    w = _WATCH_VERB.search(c)
    meas = measure_at(c, w.end()) if w else None
    if meas:
        return _frame_of(meas, w.end())
    e = _EXPECT.search(c)
    if e:
        meas = measure_at(c, e.end())
        if meas and re.match(r"\s+(?:to|will|would|could|might|may)\s+[a-z]", c[meas.end :]):
            return _frame_of(meas, e.end())
        if re.match(r"(?i)it\s+(?:to|will|would|could|might|may)\s+[a-z]", c[e.end() :]):
            earlier = find_measure(c[: e.start()])  # "trade reached $41 billion, and officials expect it to ..."
            if earlier:
                return _frame_of(earlier, earlier.start)
            earlier = find_measure(before) if before else None
            if earlier:
                return _frame_of(earlier, 0, antecedent=before)
    earlier = find_measure(before) if before and _PRONOUN_FORECAST.match(c) else None
    if earlier:
        return _frame_of(earlier, 0, antecedent=before)
    return None


def _frame_of(meas: Measure, at: int, *, antecedent: str = "") -> Frame:
    kind = meas.kind
    return Frame(
        "numeric",
        kind,
        "what",
        f"What will {meas.phrase}",
        kind.period,
        noun=meas.noun if kind.name == "count" else "",
        # figures after the measure in this sentence come first; none when it stands in an earlier one
        figures_at=(0, 0) if antecedent else (at, at + (meas.end - meas.start)),
        antecedent=antecedent,
    )


_FIGURE_START = re.compile(
    r"^(?:(?:about|around|some|nearly|almost|roughly|up\s+to|as\s+many\s+as|more\s+than|over|at\s+least|another|"
    r"an\s+additional|a\s+further|a\s+total\s+of)\s+)?(?=[$€£¥\dA-Za-z])",
    re.I,
)
_PROP_SOURCES = {"likely", "proposal", "yet", "item", "pending"}


def _prop_frame(prop: Prop) -> Frame | None:
    """ "Russia has pledged to send 3,000 more troops to Tajikistan" -> How many troops will Russia
    send to Tajikistan."""
    if prop.source not in _PROP_SOURCES or prop.passive or prop.perfect:
        return None
    rest = prop.rest
    lead = _FIGURE_START.match(rest)
    figs = parse_figures(rest)
    if not lead or not figs or figs[0].start != lead.end() or figs[0].change:
        return None
    fig = figs[0]
    after = rest[max(fig.end, fig.noun_end) :].strip()
    verb = prop.verb
    if fig.measure == "currency":
        noun = fig.noun if fig.noun in ("aid", "investment", "loans", "trade") else ""
        kind = _money_kind(noun, verb)
        if kind is None:
            return None
        body = " ".join(p for p in [noun, "will", prop.subject, prop.adverb, verb, after] if p)
        return Frame("numeric", kind, "how", f"How much {body}", "window", extra=[fig])
    if fig.measure == "count" and fig.noun:
        kind = KINDS[_NOUN_KIND[fig.noun]] if fig.noun in _NOUN_KIND else KINDS["count"]
        if kind.measure != "count":
            return None
        body = " ".join(p for p in [fig.noun, "will", prop.subject, prop.adverb, verb, after] if p)
        period = "stock" if verb in _STOCK_VERBS else "window"
        return Frame("numeric", kind, "how", f"How many {body}", period, noun=fig.noun, extra=[fig])
    return None


def _named(frame: Frame | None) -> Frame | None:
    """A quantity nobody is named in ("What will the value of trade be?") cannot be resolved."""
    if frame is None or frame.qtype == "date":
        return frame
    return frame if entities(re.sub(r"^\w+\s+\w+", "", frame.title)) else None


def sentence_frame(sentence: str, *, watch: bool = False, before: str = "", ctx: Context | None = None) -> Frame | None:
    """What a sentence asks about, when it is a quantity or a date; None otherwise (and for a
    yes/no question, or a quantity without a named actor or place)."""
    return _named(_sentence_frame(sentence, watch=watch, before=before, ctx=ctx))


_TRIGGERS = frozenset({"how", "when", "what"} | MEASURE_HEADS | set(QUANTITY_NOUNS) | set(_NOUN_KIND))


def _sentence_frame(sentence: str, *, watch: bool, before: str, ctx: Context | None) -> Frame | None:
    words = {w.lower() for w in re.findall(r"[A-Za-z]+", f"{sentence} {before}")}
    if not words & _TRIGGERS or asks_yes_no(sentence):
        return None  # no word that could name a quantity or ask when
    ctx = ctx or Context(before=before, previous_sentence=before, sentence=sentence)
    c = core(sentence)
    quoted_q = c.endswith(("?”", "?’", '?"')) and re.search(r"[“\"‘]", c[:-2])
    m = _WH_DIRECT.match(c.strip('“”"')) if not quoted_q else None
    if m:
        return _wh_frame(m["wh"], m["body"], True, ctx)
    m = _WH_EMBEDDED.search(c)
    if m:
        return _wh_frame(m["wh"], m["body"], False, ctx)
    if watch:
        m = _WH_ITEM.match(c)
        if m and not re.search(r",\s", m["body"]):
            return _wh_frame(m["wh"], m["body"], False, ctx)
    return _measure_frame(c, watch=watch, before=before)


# --- Drafts -----------------------------------------------------------------------------------


def _matches(kind: Kind, fig: Figure, noun: str) -> bool:
    if fig.change:
        return False
    if kind.measure == "currency":
        return fig.measure == "currency"
    if kind.measure == "percent":
        return fig.percent
    if fig.measure != "count" or fig.value <= 0:
        return False
    if fig.noun:
        return fig.noun in kind.nouns or (kind.name == "count" and fig.noun == noun)
    # "put at around 7,000", "about 7,000 in the country": a bare number beside the measure, but
    # not "Power of Siberia 2 pipeline"
    return fig.next_word in _BARE_NEXT


_BARE_NEXT = {
    "",
    "in",
    "at",
    "on",
    "by",
    "to",
    "from",
    "for",
    "last",
    "this",
    "since",
    "now",
    "and",
    "or",
    "a",
    "per",
    "according",
    "as",
    "each",
    "so",
    "until",
}
_TIME_PER = ("day", "week", "month")


def _pick(kind: Kind, tiers: list[list[Figure]], noun: str) -> list[Figure]:
    for figs in tiers:
        used = [f for f in figs if _matches(kind, f, noun)]
        if kind.measure == "currency" and used:
            used = [f for f in used if f.currency == used[0].currency]
        if used:
            return used
    return []


_SCALE_NAMES = {1e9: ("bn", "billions of"), 1e6: ("m", "millions of"), 1.0: ("", "")}
_CURRENCY_NAMES = {
    "USD": "US dollars",
    "EUR": "euros",
    "GBP": "pounds sterling",
    "CNY": "yuan",
    "JPY": "yen",
    "RUB": "rubles",
    "INR": "rupees",
    "KZT": "tenge",
}


@dataclass(frozen=True)
class Range:
    lower: float
    upper: float
    open_lower: bool
    open_upper: bool
    unit: str
    unit_words: str
    quoted: tuple[str, ...]  # the figures it was drafted from, as printed; () for a default


def numeric_range(kind: Kind, figures: list[Figure], noun: str = "") -> Range:
    """Half the smallest to twice the largest quoted figure, or the kind's default."""
    if kind.measure == "currency":
        currency = figures[0].currency if figures else kind.unit.split()[0]
        if figures:
            top = max(f.value for f in figures)
            scale = 1e9 if top >= 1e9 else 1e6 if top >= 1e6 else 1.0
        else:
            suffix = kind.unit.split()[-1] if " " in kind.unit else ""
            scale = {"bn": 1e9, "m": 1e6}.get(suffix, 1.0)
        short, words = _SCALE_NAMES[scale]
        unit = f"{currency} {short}".strip()
        name = _CURRENCY_NAMES.get(currency, currency)
        unit_words = f"{words} {name}".strip()
        per = figures[0].per if figures else ""
        if per:
            unit, unit_words = f"{unit} per {per}", f"{unit_words} per {per}"
        values = [f.value / scale for f in figures]
    elif kind.measure == "percent":
        unit, unit_words = "%", "per cent"
        values = [f.value for f in figures]
    else:
        unit = kind.unit or noun
        if kind.name == "trade_volume" and figures and figures[0].noun:
            unit = figures[0].noun
        if figures and figures[0].per in _TIME_PER:
            unit = f"{unit} per {figures[0].per}"
        unit_words = unit or "units"
        values = [f.value for f in figures]
    if not values:
        lo, hi = kind.default
        return Range(float(lo), float(hi), False, kind.measure != "percent", unit[:UNIT_MAX], unit_words, ())
    lo, hi = nice_floor(0.5 * min(values)), nice_ceil(2 * max(values))
    open_upper = True
    if kind.measure == "percent" and hi >= 100:
        hi, open_upper = 100.0, False
    quoted = tuple(dict.fromkeys(f.text for f in figures))
    return Range(lo, hi, lo > 0, open_upper, unit[:UNIT_MAX], unit_words, quoted)


def _instant(d: datetime.date) -> str:
    return f"{d.isoformat()}T00:00:00Z"


def _add_years(d: datetime.date, years: int) -> datetime.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def _names(title: str) -> int:
    return len({e.lower() for e in entities(title)})


def _fit(title: str, tail: str) -> str:
    limit = MAX_TITLE - len(tail) - 2
    return f"{shorten(title, limit)}{tail}"


def _period(frame: Frame, open_date: datetime.date, close_date: datetime.date) -> tuple[str, str]:
    """What the title says of the period (" in 2028", " on 2028-03-03", " by 2028-03-03") and what
    the criteria say of it."""
    o, c = open_date.isoformat(), close_date.isoformat()
    if frame.year is not None:
        return "", f"for calendar year {frame.year}"
    if frame.period == "year":
        return f" in {close_date.year}", f"for calendar year {close_date.year}"
    if frame.period == "stock":
        return f" on {c}", f"on {c} (the latest figure published on or before that day)"
    if frame.style == "what":
        return f" from {o} to {c}", f"in total from {o} to {c}"
    return f" by {c}", f"counted from {o} to {c} (what happened before {o} does not count)"


def _numeric_draft(
    frame: Frame,
    figures: list[Figure],
    *,
    open_date: datetime.date,
    close_date: datetime.date,
    section: str,
    start: int,
    end: int,
) -> tuple[Draft, float]:
    kind = frame.kind
    assert kind is not None
    rng = numeric_range(kind, figures, frame.noun)
    when, period = _period(frame, open_date, close_date)
    if frame.style == "what":
        body = frame.title
        if frame.period == "window" and kind.measure == "count" and body.startswith("What will the number of "):
            title = _fit("How many " + body[len("What will the number of ") :], f" will there be{when}?")
        else:
            title = _fit(body, f" be{when}?")
        what = f"{body[len('What will ') :]} {period}"
    else:
        title = _fit(frame.title, f"{when}?")
        what = f"the figure that answers the question, {period}"
    unit_note = f"in {rng.unit_words} ({rng.unit})" if rng.unit_words != rng.unit else f"in {rng.unit}"
    lo, hi = format_number(rng.lower), format_number(rng.upper)
    outside = []
    if rng.open_lower:
        outside.append(f"a value below {lo} resolves “below”")
    if rng.open_upper:
        outside.append(f"a value above {hi} resolves “above”")
    outside_text = (
        f" The range is {lo} to {hi}; " + " and ".join(outside) + "." if outside else f" The range is {lo} to {hi}."
    )
    if rng.quoted:
        note = (
            f" The range was drafted from the figures the passage quotes ({', '.join(rng.quoted)}): half the "
            "smallest to twice the largest."
        )
    else:
        note = f" The range is the default for {kind.label}: check it against the latest published figure before publishing."
    grace = (close_date + datetime.timedelta(days=PUBLICATION_GRACE_DAYS)).isoformat()
    criteria = (
        f"Resolves to {what}, {unit_note}, according to {kind.source}."
        + outside_text
        + note
        + f" If no figure has been published by {grace}, the question is annulled."
        + terms_note(title)
        + source_note(section, start, end)
    )
    q = 0.62 + 0.06 * min(3, _names(title)) + (0.08 if rng.quoted else 0.0)
    if kind.name in ("count", "amount"):
        q -= 0.08
    if len(title) > 150:
        q -= 0.1
    draft = Draft(
        title=title,
        type="numeric",
        options=[],
        resolution_criteria=criteria,
        close_time=_instant(close_date),
        lower=rng.lower,
        upper=rng.upper,
        open_lower=rng.open_lower,
        open_upper=rng.open_upper,
        unit=rng.unit,
    )
    return draft, max(0.0, min(1.0, q))


def _date_draft(
    frame: Frame, *, open_date: datetime.date, close_date: datetime.date, section: str, start: int, end: int
) -> tuple[Draft, float]:
    upper = _add_years(close_date, DATE_EXTRA_YEARS)
    title = _fit(frame.title, "?")
    criteria = (
        f"Resolves to the date on which {frame.statement}, as confirmed by {EVIDENCE}. The range runs from "
        f"{open_date.isoformat()} to {upper.isoformat()}; if this has not happened by {upper.isoformat()}, the "
        f"question resolves “above”. If it had already happened before {open_date.isoformat()}, the question is "
        "annulled. Proposals, talks or statements of intent alone do not count."
        + terms_note(frame.statement)
        + source_note(section, start, end)
    )
    q = 0.6 + 0.06 * min(3, _names(title))
    draft = Draft(
        title=title,
        type="date",
        options=[],
        resolution_criteria=criteria,
        close_time=_instant(close_date),
        lower=_instant(open_date),
        upper=_instant(upper),
        open_lower=False,
        open_upper=True,
        unit="",
    )
    return draft, max(0.0, min(1.0, q))


@dataclass(frozen=True)
class PassageText:
    """A candidate passage as the numeric drafter reads it: its sentences, and the sentences of
    its paragraph before and after it (for pronouns and quoted figures)."""

    sentences: list[str]
    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    watch: bool = False


def quantity_draft(
    passage: PassageText,
    *,
    props: list[Prop],
    options: list[Prop],
    open_date: datetime.date,
    close_date: datetime.date,
    section: str,
    start: int,
    end: int,
) -> tuple[Draft, float] | None:
    """A numeric or date draft and its quality (0..1) when the passage names a quantity or a date
    to watch; None when it should keep its binary or multiple-choice draft."""
    if len(options) >= 2:
        return None
    frame = None
    at = -1
    previous = passage.before[-1] if passage.before else ""
    for i, s in enumerate(passage.sentences):
        if asks_yes_no(s):
            return None
        ctx = Context(before=" ".join(passage.before + passage.sentences[:i]), previous_sentence=previous, sentence=s)
        frame = sentence_frame(s, watch=passage.watch and i == 0, before=previous, ctx=ctx)
        if frame is not None:
            at = i
            break
        previous = s
    if frame is None:
        for p in props:
            frame = _named(_prop_frame(p))
            if frame is not None:
                break
    if frame is None:
        return None
    if frame.qtype == "date":
        return _date_draft(frame, open_date=open_date, close_date=close_date, section=section, start=start, end=end)
    assert frame.kind is not None
    sentence = passage.sentences[at] if at >= 0 else ""
    near = parse_figures(sentence[frame.figures_at[1] :]) if frame.figures_at != (0, 0) else []
    tiers = [
        frame.extra,
        near,
        parse_figures(sentence),
        parse_figures(frame.antecedent),
        [f for s in passage.sentences for f in parse_figures(s)],
        [f for s in passage.before + passage.after for f in parse_figures(s)],
    ]
    if frame.year is not None:
        year_end = datetime.date(frame.year + 1, 1, 1)
        if frame.year < open_date.year:
            frame.year = None  # a year already past: ask over the question's own window
        else:
            close_date = min(close_date, year_end)  # forecasting stops when the year it asks about ends
    figures = _pick(frame.kind, tiers, frame.noun)
    if figures and frame.kind.measure == "count" and figures[0].per in _TIME_PER:
        frame.period = "stock"  # "40 flights a week": a rate, read on the close day
    if not figures and frame.kind.name == "trade" and frame.style == "what":
        # "exports of wheat ... 3 million tonnes": a trade measured by weight, not value
        figures = _pick(KINDS["trade_volume"], tiers, "")
        if figures:
            frame.kind = KINDS["trade_volume"]
            frame.title = frame.title.replace("the value of ", "the volume of ", 1)
    return _numeric_draft(
        frame, figures, open_date=open_date, close_date=close_date, section=section, start=start, end=end
    )


__all__ = [
    "DATE_EXTRA_YEARS",
    "KINDS",
    "Kind",
    "Measure",
    "PassageText",
    "Range",
    "asks_yes_no",
    "find_measure",
    "measure_at",
    "numeric_range",
    "quantity_draft",
    "sentence_frame",
]
