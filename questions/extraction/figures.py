"""Figures quoted in a text: "$146 billion", "US$2.5bn", "1.2 million refugees", "40%",
"3,000 troops", "half a million people", "five agreements".

Pure Python. :func:`parse_figures` returns each figure with its value in base units (146e9 for
"$146 billion"), its currency (ISO code) or percent sign, the counted noun that follows it, whether
it states a level or a change ("up 32%", "a 10% rise") and its offsets. Years ("2021"), days of the
month ("Sept. 16"), ordinals ("20th", "201st") and compounds ("25-minute", "2+2") are not figures.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .lexicon import QUANTITY_NOUNS

_SYMBOLS = {"us$": "USD", "$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
_CODES = {
    "usd": "USD",
    "eur": "EUR",
    "gbp": "GBP",
    "cny": "CNY",
    "rmb": "CNY",
    "jpy": "JPY",
    "rub": "RUB",
    "inr": "INR",
}
_CURRENCY_WORDS = {
    "dollar": "USD",
    "euro": "EUR",
    "pound": "GBP",
    "yuan": "CNY",
    "renminbi": "CNY",
    "yen": "JPY",
    "ruble": "RUB",
    "rouble": "RUB",
    "rupee": "INR",
    "tenge": "KZT",
}
_SCALES = {
    "thousand": 1e3,
    "k": 1e3,
    "million": 1e6,
    "m": 1e6,
    "mn": 1e6,
    "mln": 1e6,
    "billion": 1e9,
    "bn": 1e9,
    "b": 1e9,
    "trillion": 1e12,
    "tn": 1e12,
    "trn": 1e12,
}
_WORD_VALUES = {
    "a": 1,
    "an": 1,
    "half a": 0.5,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "hundred": 100,
    "a hundred": 100,
    "several hundred": 300,
    "a few hundred": 300,
    "dozens of": 36,
    "a dozen": 12,
}
_NUM_WORDS = "|".join(sorted((re.escape(w).replace(r"\ ", r"\s+") for w in _WORD_VALUES), key=len, reverse=True))
_FIGURE = re.compile(
    r"(?<![\w$€£¥.,/+:-])"
    r"(?:(?P<sym>US\$|\$|€|£|¥)\s?|(?P<code>USD|EUR|GBP|CNY|RMB|JPY|RUB|INR)\s?)?"
    r"(?:(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)|(?P<word>" + _NUM_WORDS + r"))"
    r"(?:(?P<scale>\s?(?:thousand|million|billion|trillion|bn|mn|mln|tn|trn)\b|(?:k|m|b)\b))?"
    r"(?P<cword>\s+(?:US\s+)?(?:dollars?|euros?|pounds?(?:\s+sterling)?|yuan|renminbi|yen|rubles?|roubles?|rupees?|tenge)\b)?"
    r"(?P<pct>\s?%|\s?per\s?cent\b|\s?percent(?:age\s+points?)?\b)?",
    re.I,
)
_MONTH_BEFORE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s*$",
    re.I,
)
_MONTH_AFTER = re.compile(r"\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b", re.I)
_CHANGE_BEFORE = re.compile(
    r"\b(?:by|up|down|rose|risen|grew|grown|fell|fallen|increased|decreased|declined|dropped|jumped|climbed|"
    r"gained|lost|shrank|slipped|surged|soared|plunged|expanded|contracted)\s+"
    r"(?:some\s+|about\s+|nearly\s+|almost\s+|around\s+|roughly\s+|more\s+than\s+|over\s+|just\s+)?$",
    re.I,
)
_CHANGE_AFTER = re.compile(
    r"^[\s-]*(?:increase|rise|growth|jump|drop|decline|fall|gain|loss|cut|reduction|higher|lower|"
    r"up|down|year[\s-]on[\s-]year|a\s+year|annually|per\s+year)\b",
    re.I,
)
_MODIFIERS = {
    "more",
    "additional",
    "extra",
    "new",
    "further",
    "foreign",
    "military",
    "active",
    "registered",
    "direct",
    "weekly",
    "scheduled",
    "official",
    "bilateral",
    "high-level",
    "state",
    "other",
    "metric",
    "internally",
    "displaced",
}
_PER = re.compile(
    r"\s*(?:a|an|per|/|each)\s*(barrel|tonne|ton|litre|liter|gallon|kilogram|kg|ounce|troy ounce|megawatt-hour|MWh|"
    r"cubic metre|share|bushel|day|week|month|year)\b",
    re.I,
)
_NOUN = re.compile(r"\s*([A-Za-z][\w’'-]*)")
_COMPOUND_AFTER = re.compile(r"^(?:-[A-Za-z]|\+\d|[A-Za-z])")


@dataclass(frozen=True)
class Figure:
    value: float  # in base units: 146e9 for "$146 billion", 40 for "40%"
    currency: str  # ISO code, or "" when none
    percent: bool
    noun: str  # the counted noun that follows, lower case ("refugees"), or ""
    change: bool  # states a change ("up 32%", "a 10% rise") rather than a level
    start: int
    end: int
    text: str
    noun_end: int = 0  # where the counted noun ends ("3,000 more troops|"), ``end`` when none
    per: str = ""  # "barrel" for "$60 a barrel", "week" for "40 flights a week"
    next_word: str = ""  # the word right after the figure, lower case

    @property
    def measure(self) -> str:
        """ "currency", "percent" or "count"."""
        return "currency" if self.currency else ("percent" if self.percent else "count")


def _counted_noun(text: str, pos: int) -> tuple[str, str, int]:
    """The counted noun after a figure ("7,000 Afghan refugees" -> "refugees"), the word right
    after the figure (both lower case) and where the noun ends (``pos`` when there is none)."""
    words: list[tuple[str, int]] = []
    at = pos
    for _ in range(4):
        m = _NOUN.match(text, at)
        if not m:
            break
        words.append((m[1], m.end()))
        at = m.end()
    first = words[0][0].lower() if words else ""
    for i, (w, end) in enumerate(words[:3]):
        low = w.lower()
        if low in QUANTITY_NOUNS:
            return QUANTITY_NOUNS[low], first, end
        if low in ("of", "in", "worth") and i + 1 < len(words):
            nxt, nxt_end = words[i + 1][0].lower(), words[i + 1][1]
            if nxt in QUANTITY_NOUNS:
                return QUANTITY_NOUNS[nxt], first, nxt_end
            continue
        if not (low in _MODIFIERS or (w[:1].isupper() and i < 2)):
            break
    return "", first, pos


def parse_figures(text: str) -> list[Figure]:
    """Every figure in ``text``, in order of appearance."""
    out: list[Figure] = []
    for m in _FIGURE.finditer(text):
        after = text[m.end() : m.end() + 2]
        if m["num"] and not (m["scale"] or m["pct"] or m["cword"]) and _COMPOUND_AFTER.match(after):
            continue  # "25-minute", "2+2", "20th"
        if m["num"] and not m["scale"] and re.match(r"^-\d", after):
            continue  # a range or a date written with hyphens
        currency = ""
        if m["sym"]:
            currency = _SYMBOLS[m["sym"].lower()]
        elif m["code"]:
            currency = _CODES[m["code"].lower()]
        elif m["cword"]:
            word = m["cword"].strip().lower().split()[-1]
            if word == "sterling":
                word = "pound"
            currency = _CURRENCY_WORDS.get(word.rstrip("s"), _CURRENCY_WORDS.get(word, ""))
        percent = bool(m["pct"])
        scale_word = (m["scale"] or "").strip().lower()
        scale = _SCALES.get(scale_word, 1.0)
        if m["num"]:
            base = float(m["num"].replace(",", ""))
        else:
            base = float(_WORD_VALUES[" ".join(m["word"].lower().split())])
        value = base * scale
        noun, next_word, noun_end = _counted_noun(text, m.end())
        plain = not (currency or percent or scale_word)
        if m["word"] and plain and not noun:
            continue  # "one journalist", "two decades": a word is a figure only before a counted noun
        if m["word"] and m["word"].lower() in ("a", "an") and not scale_word:
            continue
        if plain and m["num"]:
            if "," not in m["num"] and "." not in m["num"] and 1800 <= base <= 2100 and not noun:
                continue  # a year
            if _MONTH_BEFORE.search(text[max(0, m.start() - 12) : m.start()]):
                continue  # "Sept. 16"
            if _MONTH_AFTER.match(text, m.end()):
                continue  # "16 September"
        per = _PER.match(text, max(m.end(), noun_end))
        before = text[max(0, m.start() - 40) : m.start()]
        change = bool(_CHANGE_BEFORE.search(before) or _CHANGE_AFTER.match(text[m.end() : m.end() + 24]))
        out.append(
            Figure(
                value=value,
                currency=currency,
                percent=percent,
                noun=noun,
                change=change,
                start=m.start(),
                end=m.end(),
                text=m[0].strip(),
                noun_end=noun_end,
                per=per[1].lower() if per else "",
                next_word=next_word,
            )
        )
    return out


def nice_floor(x: float) -> float:
    """``x`` rounded down to two significant digits (0 stays 0): 20.5 -> 20, 3499 -> 3400."""
    if x <= 0:
        return 0.0
    step = 10 ** (math.floor(math.log10(x)) - 1)
    return float(round(math.floor(x / step + 1e-9) * step, 10))


def nice_ceil(x: float) -> float:
    """``x`` rounded up to two significant digits: 292 -> 300, 14000 -> 14000."""
    if x <= 0:
        return 0.0
    step = 10 ** (math.floor(math.log10(x)) - 1)
    return float(round(math.ceil(x / step - 1e-9) * step, 10))


def format_number(x: float) -> str:
    """A figure for people: 1,200,000 / 20 / 2.5 / 0.35."""
    if abs(x - round(x)) < 1e-9:
        return f"{int(round(x)):,}"
    return f"{x:,.3f}".rstrip("0").rstrip(".")
