"""Sections, paragraphs and sentences, each as exact (start, end) offsets
into ``Document.text``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .model import Document

WATCH_HEADING = re.compile(
    r"\b(what to (watch|look for|expect|monitor)|watch(ing)?\s*(list|for)|indicators?|signposts?|"
    r"going forward|looking ahead|look ahead|outlook|the road ahead|what('s| is| comes) next|"
    r"next steps|scenarios|warning signs|key questions|open questions|things to watch|"
    r"the year ahead|coming (months|year|weeks))\b",
    re.I,
)
WATCH_CUE = re.compile(
    r"(\b(to watch|to look for|to monitor|watch for|keep an eye on|signposts?|warning signs|"
    r"indicators?|indications? of)\b.*|:\s*)$|\b(will|would) provide (key )?indicat",
    re.I,
)
_ORDINAL = re.compile(
    r"^(?:first(?:ly)?|second(?:ly)?|third(?:ly)?|fourth(?:ly)?|fifth(?:ly)?|next|then|finally|"
    r"lastly|last|a (?:second|third|fourth|final)|one|another)\b[,:]?\s",
    re.I,
)
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+•–]|\d{1,2}[.)]|\([a-z0-9]\)|[a-z][.)])[ \t]+(?=\S)")
_MD_ATX = re.compile(r"^[ \t]{0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
_SETEXT = re.compile(r"^[ \t]{0,3}(=+|-+)[ \t]*$")
_BLANK_SPLIT = re.compile(r"\n[ \t]*\n")

_ABBREV = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "gen",
    "col",
    "lt",
    "sgt",
    "capt",
    "gov",
    "sen",
    "rep",
    "st",
    "jr",
    "sr",
    "vs",
    "e.g",
    "i.e",
    "no",
    "nos",
    "inc",
    "ltd",
    "co",
    "corp",
    "fig",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "u.s",
    "u.k",
    "u.n",
    "e.u",
    "ph.d",
    "approx",
    "est",
    "dept",
    "univ",
    "cf",
    "al",
    "adm",
    "maj",
    "pres",
    "amb",
    "rev",
    "mt",
    "ft",
    "op",
    "vol",
    "pp",
    "p",
}
_STARTERS = {
    "the",
    "this",
    "that",
    "these",
    "those",
    "it",
    "its",
    "but",
    "in",
    "on",
    "at",
    "a",
    "an",
    "as",
    "and",
    "yet",
    "so",
    "if",
    "when",
    "while",
    "he",
    "she",
    "they",
    "we",
    "i",
    "there",
    "however",
    "meanwhile",
    "still",
    "for",
    "such",
    "after",
    "before",
    "since",
    "then",
}
_SENT_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")
_STOP_TITLE = {
    "a",
    "an",
    "the",
    "and",
    "or",
    "of",
    "for",
    "to",
    "in",
    "on",
    "at",
    "by",
    "with",
    "from",
    "vs",
    "versus",
    "as",
    "is",
    "are",
    "be",
    "into",
    "over",
    "up",
    "it",
}


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass
class Paragraph:
    start: int
    end: int
    kind: str  # "heading" | "para" | "item"
    index: int
    section: str = ""
    section_index: int = 0
    enumerated: bool = False
    watch: bool = False
    sentences: list[Span] = field(default_factory=list)


@dataclass
class Section:
    title: str
    start: int
    watch: bool
    paragraphs: list[Paragraph] = field(default_factory=list)


@dataclass
class Segmented:
    doc: Document
    sections: list[Section]
    paragraphs: list[Paragraph]

    def text(self, span: Span | Paragraph) -> str:
        return self.doc.text[span.start : span.end]


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def split_sentences(text: str, start: int, end: int) -> list[Span]:
    """Sentence spans within text[start:end], trimmed of whitespace."""
    out: list[Span] = []
    chunk = text[start:end]
    cur = 0
    for m in _SENT_END.finditer(chunk):
        stop = m.end()
        if not _is_boundary(chunk, m.start(), stop):
            continue
        s, e = _strip_span(text, start + cur, start + stop)
        if e > s:
            out.append(Span(s, e))
        cur = stop
    s, e = _strip_span(text, start + cur, end)
    if e > s:
        out.append(Span(s, e))
    return out


def _is_boundary(chunk: str, punct_at: int, stop: int) -> bool:
    if chunk[punct_at] in "?!":
        return True
    j = punct_at
    while j > 0 and (chunk[j - 1].isalnum() or chunk[j - 1] == "."):
        j -= 1
    token = chunk[j:punct_at]
    following = chunk[stop:].lstrip()
    next_word = re.match(r"[\"'“‘(\[]?([A-Za-z]+)", following)
    nxt = next_word[1].lower() if next_word else ""
    low = token.lower()
    if len(token) == 1 and token.isupper():
        return False  # an initial: "J. Smith"
    if re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", token):
        # "U.S." or "J.P.": a sentence ends here only if a typical opener follows
        return nxt in _STARTERS
    return low not in _ABBREV


def _title_like(line: str) -> bool:
    words = re.findall(r"[A-Za-z][\w'’-]*", line)
    if not words or len(words) > 12 or len(line) > 100:
        return False
    if line.endswith(":") or line.isupper():
        return True
    content = [w for w in words if w.lower() not in _STOP_TITLE]
    if not content:
        return False
    caps = sum(1 for w in content if w[0].isupper())
    return len(words) <= 4 or caps / len(content) >= 0.6


def _is_plain_heading(line: str) -> bool:
    stripped = line.strip().strip("*_").strip()
    if not stripped or "\n" in line.strip():
        return False
    if not stripped[0].isalpha() or not stripped[0].isupper():
        return False
    if stripped[-1] in '.!?,;"”’)' and not stripped.endswith("?:"):
        return False
    if re.match(r"(?i)^(by|image|photo|source|credit|published|updated|posted)\b", stripped):
        return False
    if re.search(r"[.!?]\s", stripped) or (stripped.endswith(":") and len(stripped.split()) > 8):
        return False
    return _title_like(stripped)


def heading_title(raw: str) -> str:
    m = _MD_ATX.match(raw)
    if m:
        raw = m[2]
    raw = raw.split("\n")[0]
    return raw.strip().strip("*_").strip().rstrip(":").strip()


def segment(doc: Document) -> Segmented:
    text = doc.text
    known_headings = {(s, e) for s, e in doc.headings}
    blocks: list[tuple[int, int]] = []
    pos = doc.body_start
    for m in _BLANK_SPLIT.finditer(text, pos):
        blocks.append((pos, m.start()))
        pos = m.end()
    blocks.append((pos, len(text)))

    raw_paras: list[tuple[int, int, str]] = []  # (start, end, kind)
    for b_start, b_end in blocks:
        s, e = _strip_span(text, b_start, b_end)
        if s >= e:
            continue
        raw_paras.extend(_split_block(doc, s, e, known_headings))

    # Plain headings: a short title-like line standing alone, followed by more text.
    paragraphs: list[Paragraph] = []
    for i, (s, e, kind) in enumerate(raw_paras):
        if kind == "para" and i + 1 < len(raw_paras) and doc.format != "html" and _is_plain_heading(text[s:e]):
            kind = "heading"
        paragraphs.append(Paragraph(s, e, kind, i))

    sections: list[Section] = []
    current = Section(title=doc.title or "", start=doc.body_start, watch=False)
    sections.append(current)
    cue_seen = False
    for p in paragraphs:
        if p.kind == "heading":
            title = heading_title(text[p.start : p.end])
            current = Section(title=title, start=p.start, watch=bool(WATCH_HEADING.search(title)))
            sections.append(current)
            cue_seen = False
        p.section = current.title
        p.section_index = len(sections) - 1
        current.paragraphs.append(p)
        if p.kind == "heading":
            continue
        content_start = p.start
        if p.kind == "item":
            m = _LIST_ITEM.match(text[p.start : p.end])
            if m:
                content_start = p.start + m.end()
        p.start = content_start
        body = text[p.start : p.end]
        p.enumerated = p.kind == "item" or bool(_ORDINAL.match(body))
        p.watch = current.watch or (cue_seen and p.enumerated)
        if WATCH_CUE.search(body):
            cue_seen = True
        p.sentences = split_sentences(text, p.start, p.end)
    return Segmented(doc=doc, sections=sections, paragraphs=paragraphs)


def _split_block(doc: Document, s: int, e: int, known_headings: set) -> list[tuple[int, int, str]]:
    text = doc.text
    if (s, e) in known_headings:
        return [(s, e, "heading")]
    lines: list[tuple[int, int]] = []
    pos = s
    for ln in text[s:e].split("\n"):
        lines.append((pos, pos + len(ln)))
        pos += len(ln) + 1
    markdown = doc.format == "markdown"
    out: list[tuple[int, int, str]] = []
    cur: list[int] | None = None  # [start, end, kind]
    cur_kind = "para"

    def close() -> None:
        nonlocal cur
        if cur is not None:
            cs, ce = _strip_span(text, cur[0], cur[1])
            if ce > cs:
                out.append((cs, ce, cur_kind))
        cur = None

    for idx, (ls, le) in enumerate(lines):
        line = text[ls:le]
        if markdown and _MD_ATX.match(line):
            close()
            out.append((*_strip_span(text, ls, le), "heading"))
            continue
        if markdown and idx == 1 and _SETEXT.match(line) and cur is not None and len(lines) == 2:
            cur_kind = "heading"
            close()
            continue
        if _LIST_ITEM.match(line):
            close()
            cur = [ls, le]
            cur_kind = "item"
            continue
        if cur is None:
            cur = [ls, le]
            cur_kind = "para"
        else:
            cur[1] = le
    close()
    return out
