"""What is asked: series, questions and their options, resolution history, and the articles that
questions are drawn from with their candidate passages."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ScoringMode(models.TextChoices):
    CONTINUOUS = "continuous", "Continuous (exact time)"
    DAILY = "daily", "Daily (GJ Open)"


class Series(models.Model):
    """A tournament: a set of questions scored together, e.g. those drawn from one article."""

    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    scoring_mode = models.CharField(max_length=12, choices=ScoringMode.choices, default=ScoringMode.CONTINUOUS)
    blind = models.BooleanField(
        default=False,
        help_text="Forecast blind: the crowd and others' rationales stay hidden from a reader until they "
        "forecast on the question (or it closes).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "series"
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.title


class Article(models.Model):
    """An analyst's article. `text` is the decoded text that every candidate offset refers to."""

    title = models.CharField(max_length=300)
    author = models.CharField(max_length=200, blank=True)
    source_url = models.URLField(max_length=500, blank=True)
    published_on = models.DateField(null=True, blank=True)
    text = models.TextField()
    sha256 = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the uploaded bytes.")
    format = models.CharField(max_length=10, default="text")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    strategic_proposal = models.JSONField(
        null=True,
        blank=True,
        help_text="The extractor's proposal of the article's strategic question (its indicators name "
        "candidates by index: rank - 1), or null when the article states no thesis question.",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


#: No outcome recorded: an unresolved or annulled question.
_NO_OUTCOME = {"resolved_option__isnull": True, "resolved_value__isnull": True, "resolved_outside": ""}

CONTINUOUS_TYPES = ("numeric", "date")
#: Range bounds lie within [-RANGE_LIMIT, RANGE_LIMIT]: finite (NaN and infinities fail the check).
RANGE_LIMIT = 1e300


class Question(models.Model):
    class Type(models.TextChoices):
        BINARY = "binary", "Binary"
        MULTIPLE_CHOICE = "multiple_choice", "Multiple choice"
        NUMERIC = "numeric", "Numeric"
        DATE = "date", "Date"

    class Outside(models.TextChoices):
        BELOW = "below", "Below the lower bound"
        ABOVE = "above", "Above the upper bound"

    class State(models.TextChoices):
        OPEN = "open", "Unresolved"
        RESOLVED = "resolved", "Resolved"
        ANNULLED = "annulled", "Annulled"

    series = models.ForeignKey(Series, null=True, blank=True, on_delete=models.PROTECT, related_name="questions")
    slug = models.SlugField(max_length=120, unique=True, null=True, blank=True)
    type = models.CharField(max_length=16, choices=Type.choices)
    ordered = models.BooleanField(default=False, help_text="Options are ordered bins (ordered Brier).")
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    resolution_criteria = models.TextField(blank=True)
    open_time = models.DateTimeField()
    close_time = models.DateTimeField(help_text="Scheduled close: forecasts are accepted before it.")
    known_at = models.DateTimeField(null=True, blank=True, help_text="Early close: when the answer became public.")
    crowd_reveal_time = models.DateTimeField(null=True, blank=True, help_text="Default: the open time.")
    scoring_mode = models.CharField(max_length=12, choices=ScoringMode.choices, default=ScoringMode.CONTINUOUS)
    published_at = models.DateTimeField(null=True, blank=True, help_text="Unpublished questions are drafts.")

    # Numeric and date questions ("continuous"): the range [range_lower, range_upper] (date: UTC
    # instants as POSIX seconds), each bound open (probability mass may fall beyond it) or closed.
    range_lower = models.FloatField(
        null=True, blank=True, help_text="Numeric/date: the lower bound (date: POSIX seconds)."
    )
    range_upper = models.FloatField(
        null=True, blank=True, help_text="Numeric/date: the upper bound (date: POSIX seconds)."
    )
    open_lower = models.BooleanField(
        default=False, help_text="Numeric/date: the outcome may fall below the lower bound."
    )
    open_upper = models.BooleanField(
        default=False, help_text="Numeric/date: the outcome may fall above the upper bound."
    )
    unit = models.CharField(max_length=40, blank=True, help_text="Numeric: the unit of the values, e.g. 'million t'.")

    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    resolved_option = models.ForeignKey("Option", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    resolved_value = models.FloatField(
        null=True, blank=True, help_text="Numeric/date: the outcome (date: POSIX seconds)."
    )
    resolved_outside = models.CharField(
        max_length=5,
        blank=True,
        choices=Outside.choices,
        help_text="Numeric/date: the outcome fell beyond an open bound.",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Incremented by every resolve/annul/unresolve; the scoring job records the version it scored,
    # so stale or missing scores are found by comparing the two.
    resolution_version = models.PositiveIntegerField(default=0)
    scored_version = models.PositiveIntegerField(default=0)

    # Provenance: the passage of the article this question was drawn from.
    article = models.ForeignKey(Article, null=True, blank=True, on_delete=models.PROTECT, related_name="questions")
    source_start = models.PositiveIntegerField(null=True, blank=True)
    source_end = models.PositiveIntegerField(null=True, blank=True)
    source_passage = models.TextField(blank=True)
    indicator = models.CharField(max_length=200, blank=True, help_text="Group on the article page.")

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["close_time", "id"]
        indexes = [
            models.Index(fields=["state", "close_time"]),
            models.Index(fields=["series", "state"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(close_time__gt=models.F("open_time")), name="question_close_after_open"),
            models.CheckConstraint(
                condition=(
                    Q(state="open", resolved_at__isnull=True, **_NO_OUTCOME)
                    | (
                        Q(state="resolved", resolved_at__isnull=False)
                        & (
                            Q(resolved_option__isnull=False, resolved_value__isnull=True, resolved_outside="")
                            | Q(resolved_option__isnull=True, resolved_value__isnull=False, resolved_outside="")
                            | Q(
                                resolved_option__isnull=True,
                                resolved_value__isnull=True,
                                resolved_outside__in=["below", "above"],
                            )
                        )
                    )
                    | Q(state="annulled", resolved_at__isnull=False, **_NO_OUTCOME)
                ),
                name="question_one_resolution_state",
            ),
            # A continuous question has a finite range lower < upper (NaN fails too); the others have none.
            models.CheckConstraint(
                condition=(
                    Q(
                        type__in=["numeric", "date"],
                        range_lower__isnull=False,
                        range_upper__isnull=False,
                        range_lower__gte=-RANGE_LIMIT,
                        range_upper__lte=RANGE_LIMIT,
                        range_upper__gt=models.F("range_lower"),
                    )
                    | (
                        ~Q(type__in=["numeric", "date"])
                        & Q(range_lower__isnull=True, range_upper__isnull=True, open_lower=False, open_upper=False)
                        & Q(resolved_value__isnull=True, resolved_outside="")
                    )
                ),
                name="question_range_valid",
            ),
            # An outcome beyond a bound only past an open one.
            models.CheckConstraint(
                condition=~Q(resolved_outside="below", open_lower=False)
                & ~Q(resolved_outside="above", open_upper=False),
                name="question_outside_open_bound",
            ),
            models.CheckConstraint(
                condition=Q(source_start__isnull=True) | Q(source_end__gt=models.F("source_start")),
                name="question_source_span",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def effective_close(self):
        """Tc = min(scheduled close, known_at)."""
        if self.known_at and self.known_at < self.close_time:
            return self.known_at
        return self.close_time

    @property
    def reveal_time(self):
        return self.crowd_reveal_time or self.open_time

    @property
    def is_continuous(self) -> bool:
        """A numeric or date question: a range, a CDF forecast, a value outcome; no options."""
        return self.type in CONTINUOUS_TYPES


class Option(models.Model):
    """One outcome. Binary questions have exactly two: "yes" (position 0) and "no" (position 1)."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="options")
    label = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["question", "position"]
        constraints = [
            models.UniqueConstraint(fields=["question", "position"], name="option_unique_position"),
            models.UniqueConstraint(fields=["question", "label"], name="option_unique_label"),
        ]

    def __str__(self) -> str:
        return self.label


class ResolutionEvent(models.Model):
    """Audit trail: every resolve, annul and un-resolve, who did it, from what to what."""

    class Action(models.TextChoices):
        RESOLVE = "resolve"
        ANNUL = "annul"
        UNRESOLVE = "unresolve"

    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="resolution_events")
    action = models.CharField(max_length=10, choices=Action.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    from_state = models.CharField(max_length=10)
    from_outcome = models.CharField(max_length=200, blank=True)
    to_state = models.CharField(max_length=10)
    to_outcome = models.CharField(max_length=200, blank=True)
    known_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    version = models.PositiveIntegerField()

    class Meta:
        ordering = ["question", "version"]
        constraints = [
            models.UniqueConstraint(fields=["question", "version"], name="resolution_event_unique_version"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.question_id} v{self.version}: {self.from_outcome or self.from_state} -> {self.to_outcome or self.to_state}"


class Candidate(models.Model):
    """A passage of an article that poses an open question, with a drafted question for review."""

    class Status(models.TextChoices):
        NEW = "new"
        APPROVED = "approved"
        REJECTED = "rejected"

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="candidates")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    passage = models.TextField()
    section = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=30)
    score = models.FloatField()
    rank = models.PositiveIntegerField()
    draft = models.JSONField(
        help_text="Drafted question fields: title, type, options, resolution_criteria, close_time."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    question = models.OneToOneField(Question, null=True, blank=True, on_delete=models.PROTECT, related_name="candidate")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["article", "rank"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="candidate_span"),
            models.CheckConstraint(
                condition=Q(status="approved", question__isnull=False) | ~Q(status="approved"),
                name="candidate_approved_has_question",
            ),
            models.UniqueConstraint(fields=["article", "start", "end"], name="candidate_unique_span"),
        ]

    def __str__(self) -> str:
        return f"{self.article_id}:{self.start}-{self.end} {self.kind}"
