"""Bytes in, :class:`Document` out: decoding, format detection, HTML to text,
and the article's own metadata (title, author, date) when it states them."""

from __future__ import annotations

import datetime
import re
from html.parser import HTMLParser

from .model import Document, ExtractionInputError

_SIGNATURES = (
    (b"%PDF-", "PDF document"),
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x1f\x8b", "gzip archive"),
    (b"\x7fELF", "ELF executable"),
)


def _decode(data: bytes) -> str:
    if not data:
        raise ExtractionInputError("input is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ExtractionInputError("input is UTF-16 text, not UTF-8 (byte-order mark)")
    for magic, what in _SIGNATURES:
        if data.startswith(magic):
            raise ExtractionInputError(f"input looks binary ({what} signature)")
    nul = data.find(b"\x00")
    if nul != -1:
        raise ExtractionInputError(f"input looks binary (NUL byte at offset {nul})")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = data[exc.start]
        raise ExtractionInputError(
            f"input is not UTF-8 text (invalid byte 0x{bad:02x} at offset {exc.start})"
        ) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\t\f\v")
    if controls > max(2, len(text) // 100):
        raise ExtractionInputError(f"input looks binary ({controls} control characters)")
    if not text.strip():
        raise ExtractionInputError("input is empty (only whitespace)")
    return text


# ---------------------------------------------------------------- format sniffing

_HTML_START = re.compile(r"\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)\b", re.I | re.S)
_HTML_TAG = re.compile(r"</?(p|div|h[1-6]|article|section|span|a|li|ul|ol|br|em|strong|table)\b[^>]*>", re.I)
_MD_HEADING = re.compile(r"^#{1,6}\s+\S", re.M)
_MD_MARKUP = re.compile(r"^(\s*[-*+]\s+\S|\s*\d+\.\s+\S|>\s)|\[[^\]\n]+\]\([^)\s]+\)|\*\*[^*\n]+\*\*", re.M)


def _detect_format(text: str, filename: str | None) -> str:
    if filename:
        lower = filename.lower()
        if lower.endswith((".html", ".htm", ".xhtml")):
            return "html"
        if lower.endswith((".md", ".markdown", ".mdown")):
            return "markdown"
    if _HTML_START.match(text) or len(_HTML_TAG.findall(text[:20000])) >= 3:
        return "html"
    if text.startswith("---\n") or _MD_HEADING.search(text) or len(_MD_MARKUP.findall(text)) >= 3:
        return "markdown"
    return "text"


# ---------------------------------------------------------------- HTML to text

_BLOCK = {
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "blockquote",
    "ul",
    "ol",
    "table",
    "tr",
    "pre",
    "hr",
    "dl",
    "dd",
    "dt",
    "figure",
    "figcaption",
    "form",
    "address",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "aside",
}
_SKIP = {"script", "style", "noscript", "template", "svg", "nav", "head", "iframe", "button", "select"}
_DATE_META = {
    "article:published_time",
    "date",
    "pubdate",
    "publishdate",
    "dc.date",
    "dc.date.issued",
    "citation_publication_date",
    "og:published_time",
    "datepublished",
    "sailthru.date",
}


class _HTMLToText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, str]] = []  # (kind, text) kind: "p" | "h" | "li"
        self._buf: list[str] = []
        self._kind = "p"
        self._skip = 0
        self._pre = 0
        self._in_title = False
        self.title_tag = ""
        self.meta: dict[str, str] = {}
        self.time_datetime: str | None = None

    def _flush(self) -> None:
        raw = "".join(self._buf)
        self._buf = []
        if self._pre:
            lines = [ln.rstrip() for ln in raw.split("\n")]
            text = "\n".join(lines).strip("\n")
        else:
            text = " ".join(raw.split())
        if text.strip():
            self.blocks.append((self._kind, text))
        self._kind = "p"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            key = (a.get("name") or a.get("property") or a.get("itemprop") or "").lower()
            if key and a.get("content"):
                self.meta.setdefault(key, a["content"])
            return
        if tag == "title":
            self._in_title = True
            return
        if tag == "time" and self.time_datetime is None and a.get("datetime"):
            self.time_datetime = a["datetime"]
        if tag in _SKIP:
            self._skip += 1
            return
        if self._skip:
            return
        if tag == "br":
            self._buf.append("\n" if self._pre else " ")
            return
        if tag in _BLOCK:
            self._flush()
            if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
                self._kind = "h"
            elif tag == "li":
                self._kind = "li"
            if tag == "pre":
                self._pre += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
            return
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
            return
        if self._skip:
            return
        if tag in _BLOCK:
            self._flush()
            if tag == "pre":
                self._pre = max(0, self._pre - 1)

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_tag += data
            return
        if not self._skip:
            self._buf.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def _html_to_document(source: str) -> Document:
    parser = _HTMLToText()
    parser.feed(source)
    parser.close()
    parts: list[str] = []
    headings: list[tuple[int, int]] = []
    pos = 0
    for kind, block in parser.blocks:
        if parts:
            parts.append("\n\n")
            pos += 2
        if kind == "li":
            block = "- " + block
        if kind == "h":
            headings.append((pos, pos + len(block)))
        parts.append(block)
        pos += len(block)
    text = "".join(parts)
    if not text.strip():
        raise ExtractionInputError("input is empty (HTML without visible text)")
    title = " ".join(parser.title_tag.split()) or None
    if headings and (title is None or len(title) > 150):
        title = text[headings[0][0] : headings[0][1]]
    meta = parser.meta
    author = meta.get("author") or meta.get("article:author") or meta.get("dc.creator")
    published = None
    for key in sorted(_DATE_META):
        if key in meta:
            published = parse_date(meta[key])
            if published:
                break
    if published is None and parser.time_datetime:
        published = parse_date(parser.time_datetime)
    head_title, head_author, head_date = _head_metadata(text)
    return Document(
        text=text,
        title=title or head_title,
        author=(author.strip() if author else None) or head_author,
        published=published or head_date,
        format="html",
        headings=tuple(headings),
    )


# ---------------------------------------------------------------- dates and metadata

_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_MONTH_RE = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})(?!\d)")
_MDY = re.compile(rf"\b({_MONTH_RE})\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I)
_DMY = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH_RE})\s+(\d{{4}})\b", re.I)
_MY = re.compile(rf"\b({_MONTH_RE})\s+(\d{{4}})\b", re.I)


def _month(name: str) -> int:
    return _MONTHS[name.lower().rstrip(".")[:3]]


def _safe_date(y: int, m: int, d: int) -> datetime.date | None:
    try:
        return datetime.date(y, m, d)
    except ValueError:
        return None


def parse_date(value: str) -> datetime.date | None:
    """The first full calendar date in ``value`` (ISO, "Nov. 16, 2021" or
    "16 November 2021"), or None."""
    m = _ISO_DATE.search(value)
    if m:
        return _safe_date(int(m[1]), int(m[2]), int(m[3]))
    m = _MDY.search(value)
    if m:
        return _safe_date(int(m[3]), _month(m[1]), int(m[2]))
    m = _DMY.search(value)
    if m:
        return _safe_date(int(m[3]), _month(m[2]), int(m[1]))
    return None


def latest_mentioned_date(text: str) -> datetime.date | None:
    """The latest calendar date the text mentions with an explicit year
    ("June 16, 2021", "2021-10-07", or "October 2021" read as its first
    day). A stand-in for the writing date when the article does not state it."""
    found: list[datetime.date] = []
    for rx in (_ISO_DATE,):
        for m in rx.finditer(text):
            d = _safe_date(int(m[1]), int(m[2]), int(m[3]))
            if d:
                found.append(d)
    for m in _MDY.finditer(text):
        d = _safe_date(int(m[3]), _month(m[1]), int(m[2]))
        if d:
            found.append(d)
    for m in _DMY.finditer(text):
        d = _safe_date(int(m[3]), _month(m[2]), int(m[1]))
        if d:
            found.append(d)
    for m in _MY.finditer(text):
        d = _safe_date(int(m[2]), _month(m[1]), 1)
        if d:
            found.append(d)
    found = [d for d in found if 1900 <= d.year <= 2100]
    return max(found) if found else None


_BYLINE = re.compile(r"^(?:by|author:|written by|words by)\s+(.{2,120}?)\s*$", re.I)
_DATELINE = re.compile(r"^(?:published|posted|updated|date|dated)?[:\s]*(.{4,60})$", re.I)
_BIO = re.compile(
    r"^\**([A-Z][\w'’.-]+(?:\s+[A-Z][\w'’.-]*){1,3}),?(?:\s*(?:Ph\.?D\.?|M\.?D\.?|Jr\.|Sr\.),?)?"
    r"\s+(?:is|was|serves as)\s+(?:a|an|the)\s"
)


def _clean_author(raw: str) -> str:
    raw = re.split(r"\s*(?:\||·|•|—|–|\bon\b|,\s*(?=" + _MONTH_RE + r")|,\s*\d)", raw, maxsplit=1)[0]
    return raw.strip(" *_,;:")


def _head_metadata(text: str) -> tuple[str | None, str | None, datetime.date | None]:
    """Title, author and date stated in the first lines (and an author's bio
    at the end, as many analysis sites print it)."""
    lines = [ln.strip().strip("#").strip() for ln in text.split("\n")]
    head = [ln for ln in lines if ln][:12]
    title = None
    if head and len(head[0]) <= 200 and not head[0].endswith((".", ",", ";")):
        title = head[0].strip("*_ ") or None
    author = None
    published = None
    for ln in head[:10]:
        plain = ln.strip("*_ ")
        m = _BYLINE.match(plain)
        if m and author is None:
            author = _clean_author(m[1]) or None
            if published is None:
                published = parse_date(plain)
            continue
        if published is None and len(plain) <= 70:
            m2 = _DATELINE.match(plain)
            if m2:
                published = parse_date(m2[1])
    if author is None:
        for ln in [ln for ln in lines if ln][-6:]:
            m = _BIO.match(ln)
            if m:
                author = m[1].strip()
                break
    return title, author, published


_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n(?:---|\.\.\.)\n", re.S)


def _markdown_document(text: str) -> Document:
    body_start = 0
    fm_title = fm_author = None
    fm_date = None
    m = _FRONT_MATTER.match(text)
    if m:
        body_start = m.end()
        for line in m[1].split("\n"):
            key, _, value = line.partition(":")
            key = key.strip().lower()
            value = value.strip().strip("'\"")
            if key == "title" and value:
                fm_title = value
            elif key in {"author", "authors", "by"} and value:
                fm_author = value.strip("[]'\"")
            elif key in {"date", "published", "pubdate"} and value:
                fm_date = parse_date(value)
    title, author, published = _head_metadata(text[body_start:])
    return Document(
        text=text,
        title=fm_title or title,
        author=fm_author or author,
        published=fm_date or published,
        format="markdown",
        body_start=body_start,
    )


def load_document(data: bytes, *, filename: str | None = None) -> Document:
    """Decode an article (UTF-8, BOM allowed) and normalise it.

    Line endings become ``\\n``; HTML is converted to plain text with one
    blank line between blocks; Markdown and plain text are kept as they are.
    Raises :class:`ExtractionInputError` for empty, binary or non-UTF-8 input.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("load_document expects bytes")
    text = _decode(bytes(data))
    fmt = _detect_format(text, filename)
    if fmt == "html":
        return _html_to_document(text)
    if fmt == "markdown":
        return _markdown_document(text)
    title, author, published = _head_metadata(text)
    return Document(text=text, title=title, author=author, published=published, format="text")
