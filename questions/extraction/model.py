"""Value objects shared by the extractor's stages and its callers."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field


class ExtractionInputError(ValueError):
    """The input cannot be read as an article.

    ``str(error)`` is always a single line saying why, so command-line callers
    can print it as is before exiting with status 2.
    """

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


@dataclass(frozen=True)
class Document:
    """Decoded, normalised article text. Every offset the extractor reports
    is an index into ``text``.

    ``headings`` lists (start, end) spans of headings known from the markup
    (HTML ``<h1>``..``<h6>``); plain-text and Markdown headings are found by
    the segmenter itself. ``body_start`` skips a Markdown front-matter block.
    """

    text: str
    title: str | None = None
    author: str | None = None
    published: datetime.date | None = None
    format: str = "text"  # "text" | "markdown" | "html"
    headings: tuple[tuple[int, int], ...] = ()
    body_start: int = 0


CONTINUOUS_TYPES = ("numeric", "date")


@dataclass(frozen=True)
class Draft:
    """A drafted question. Numeric and date drafts also carry their range: ``lower`` and
    ``upper`` are numbers in ``unit`` for numeric, ISO-8601 UTC instants for date; an open bound
    lets the outcome fall outside the range ("below" / "above")."""

    title: str
    type: str  # "binary" | "multiple_choice" | "numeric" | "date"
    options: list[str]
    resolution_criteria: str
    close_time: str  # ISO-8601 UTC, "YYYY-MM-DDT00:00:00Z"
    lower: float | str | None = None
    upper: float | str | None = None
    open_lower: bool = False
    open_upper: bool = False
    unit: str = ""

    @property
    def is_continuous(self) -> bool:
        return self.type in CONTINUOUS_TYPES

    def to_dict(self) -> dict:
        out = {
            "title": self.title,
            "type": self.type,
            "options": list(self.options),
            "resolution_criteria": self.resolution_criteria,
            "close_time": self.close_time,
        }
        if self.is_continuous:
            out.update(
                lower=self.lower,
                upper=self.upper,
                open_lower=self.open_lower,
                open_upper=self.open_upper,
                unit=self.unit,
            )
        return out


@dataclass(frozen=True)
class CandidateQuestion:
    start: int
    end: int
    passage: str
    section: str
    kind: str  # "indicator" | "explicit_question" | "conditional" | "open_issue" | "proposal"
    score: float
    draft: Draft
    # Spans of other passages about the same event that were merged into this
    # one (not part of the JSON contract; see ``to_dict(include_related=True)``).
    related: tuple[tuple[int, int], ...] = field(default=())

    def to_dict(self, *, include_related: bool = False) -> dict:
        out = {
            "start": self.start,
            "end": self.end,
            "passage": self.passage,
            "section": self.section,
            "kind": self.kind,
            "score": self.score,
            "draft": self.draft.to_dict(),
        }
        if include_related:
            out["related"] = [list(span) for span in self.related]
        return out
