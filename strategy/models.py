"""Strategic questions, their drivers, the indicator questions linked under each driver, and the
stored history of their composite (derived data, recomputed wholesale by strategy.services)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from questions.models import Article, Question


class StrategicQuestion(models.Model):
    """A long-horizon question that is never resolved itself; its indicators roll up into a
    composite between two poles (-1: `pole_less`, +1: `pole_more`)."""

    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    pole_less = models.CharField(max_length=100, help_text='The -1 end of the axis, e.g. "Less coordination".')
    pole_more = models.CharField(max_length=100, help_text='The +1 end of the axis, e.g. "More coordination".')
    article = models.ForeignKey(
        "questions.Article",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="strategic_questions",
        help_text="The article whose proposal it was made from, if any.",
    )
    published_at = models.DateTimeField(null=True, blank=True, help_text="Unpublished ones are seen by staff only.")
    created_at = models.DateTimeField(auto_now_add=True)
    computed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the composite's history was last recomputed."
    )

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.title


class Driver(models.Model):
    """One force behind the strategic question; its indicators are the links under it."""

    strategic_question = models.ForeignKey(StrategicQuestion, on_delete=models.CASCADE, related_name="drivers")
    title = models.CharField(max_length=300)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["strategic_question", "order", "id"]

    def __str__(self) -> str:
        return self.title


class IndicatorLink(models.Model):
    """An ordinary question read as an indicator of a strategic question, under one of its drivers.

    `direction` +1: a YES (a higher option) moves the strategic question towards its "more" pole;
    -1: towards its "less" pole. `weight` (> 0) is its weight in the composite."""

    class Direction(models.IntegerChoices):
        MORE = 1, "+1: YES moves towards the “more” pole"
        LESS = -1, "−1: YES moves towards the “less” pole"

    strategic_question = models.ForeignKey(StrategicQuestion, on_delete=models.CASCADE, related_name="links")
    driver = models.ForeignKey(Driver, on_delete=models.CASCADE, related_name="links")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="strategic_links")
    direction = models.SmallIntegerField(choices=Direction.choices, default=Direction.MORE)
    weight = models.FloatField(default=1.0, help_text="Greater than 0.")
    rationale = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0, help_text="Position under its driver.")

    class Meta:
        ordering = ["strategic_question", "driver__order", "order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(direction__in=[1, -1]), name="indicator_link_direction"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="indicator_link_weight_positive"),
            models.UniqueConstraint(fields=["strategic_question", "question"], name="indicator_link_unique_question"),
        ]

    def __str__(self) -> str:
        return f"{self.question_id} ({self.direction:+d}, w={self.weight:g}) in {self.strategic_question_id}"


class StrategicPoint(models.Model):
    """The composite from `time` until the next point (a step function), with each indicator's
    part: `contributions` maps a question id (as text) to {"value", "contribution"} for the
    indicators that had a value then. Rebuilt wholesale by strategy.services.strategic_recompute."""

    strategic_question = models.ForeignKey(StrategicQuestion, on_delete=models.CASCADE, related_name="points")
    time = models.DateTimeField()
    composite = models.FloatField(null=True, help_text="Null while no indicator has a value.")
    contributions = models.JSONField(default=dict)

    class Meta:
        ordering = ["strategic_question", "time"]
        constraints = [
            models.UniqueConstraint(fields=["strategic_question", "time"], name="strategic_point_unique_time"),
            models.CheckConstraint(
                condition=Q(composite__isnull=True) | Q(composite__gte=-1, composite__lte=1),
                name="strategic_point_composite_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.strategic_question_id} at {self.time:%Y-%m-%d %H:%M}: {self.composite}"


class ArticleProposal(Article):
    """An article seen from strategy: the admin lists the articles whose extractor proposed a
    strategic question, and turns a proposal into one (strategic_question_from_article)."""

    class Meta:
        proxy = True
        verbose_name = "article's strategic proposal"
        verbose_name_plural = "articles' strategic proposals"
