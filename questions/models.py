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


class Question(models.Model):
    class Type(models.TextChoices):
        BINARY = "binary", "Binary"
        MULTIPLE_CHOICE = "multiple_choice", "Multiple choice"

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

    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    resolved_option = models.ForeignKey("Option", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
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
                    Q(state="open", resolved_option__isnull=True, resolved_at__isnull=True)
                    | Q(state="resolved", resolved_option__isnull=False, resolved_at__isnull=False)
                    | Q(state="annulled", resolved_option__isnull=True, resolved_at__isnull=False)
                ),
                name="question_one_resolution_state",
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
