"""What is answered: forecasts (append-only) and the crowd's history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from questions.models import Question

P_MIN = 0.001
P_MAX = 0.999
SUM_TOLERANCE = 1e-6


class Forecast(models.Model):
    """One forecast or withdrawal. Rows are only ever inserted, never edited by a forecaster.

    `probabilities` is the full vector in option order. Its bounds and sum are also kept in plain
    columns so that the database itself enforces the rules of scoring.md section 1. On a numeric or
    date question a forecast has `cdf` (201 floats, forecasts.validation checks them) instead.
    """

    class Kind(models.TextChoices):
        FORECAST = "forecast"
        WITHDRAWAL = "withdrawal"

    # No single-column indexes on the two keys: the (question, created_at) and (user, question,
    # created_at) indexes below lead with them, and every forecast stored maintains each index.
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="forecasts", db_index=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="forecasts", db_index=False
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.FORECAST)
    created_at = models.DateTimeField(db_index=True)
    probabilities = models.JSONField(null=True, blank=True)
    p_min = models.FloatField(null=True, blank=True)
    p_max = models.FloatField(null=True, blank=True)
    p_sum = models.FloatField(null=True, blank=True)
    cdf = models.JSONField(
        null=True,
        blank=True,
        help_text="Numeric/date questions: the forecast CDF, 201 floats on the range's grid (probabilities "
        "and p_* are then null).",
    )
    rationale = models.TextField(blank=True, max_length=10000)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["question", "created_at"]),
            models.Index(fields=["user", "question", "created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        kind="forecast",
                        probabilities__isnull=False,
                        cdf__isnull=True,
                        # explicit: a NULL would make the comparisons below unknown, which a CHECK lets pass
                        p_min__isnull=False,
                        p_max__isnull=False,
                        p_sum__isnull=False,
                        p_min__gte=P_MIN,
                        p_max__lte=P_MAX,
                        p_min__lte=F("p_max"),
                        p_sum__gte=1 - SUM_TOLERANCE,
                        p_sum__lte=1 + SUM_TOLERANCE,
                    )
                    | Q(
                        kind="forecast",
                        probabilities__isnull=True,
                        cdf__isnull=False,
                        p_min__isnull=True,
                        p_max__isnull=True,
                        p_sum__isnull=True,
                    )
                    | Q(
                        kind="withdrawal",
                        probabilities__isnull=True,
                        cdf__isnull=True,
                        p_min__isnull=True,
                        p_max__isnull=True,
                    )
                ),
                name="forecast_probabilities_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.question_id} at {self.created_at:%Y-%m-%d %H:%M}"


class CrowdPoint(models.Model):
    """The crowd forecast from `time` until the next point of the same question and method."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="crowd_points")
    method = models.CharField(max_length=32)
    time = models.DateTimeField()
    probabilities = models.JSONField(
        null=True,
        help_text="Null while nobody has a standing forecast. On a numeric or date question: the crowd CDF "
        "(201 floats).",
    )
    n_forecasters = models.PositiveIntegerField()
    is_latest = models.BooleanField(default=False, help_text="The current crowd forecast.")
    through_forecast_id = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="The highest forecast id the history held when this point was written: the "
        "incremental crowd update appends only for forecasts after it.",
    )

    class Meta:
        ordering = ["question", "method", "time"]
        constraints = [
            models.UniqueConstraint(fields=["question", "method", "time"], name="crowd_point_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.method} on {self.question_id} from {self.time:%Y-%m-%d %H:%M}"


class CrowdPending(models.Model):
    """A crowd update of the question is queued and has not started: a forecast stored meanwhile
    needs no job of its own (forecasts.pending). Written in the transaction that stores the
    forecast, under the question's row lock; deleted by the job as it starts, under that lock."""

    question = models.OneToOneField(Question, on_delete=models.CASCADE, primary_key=True, related_name="+")
    since = models.DateTimeField()

    def __str__(self) -> str:
        return f"crowd update of {self.question_id} queued since {self.since:%Y-%m-%d %H:%M:%S}"


class RationaleHide(models.Model):
    """A staff decision to hide a forecast's rationale from everyone but its author. The forecast
    and its text are kept (forecasts are append-only); this row is the audit: who, when, why."""

    forecast = models.OneToOneField(Forecast, on_delete=models.PROTECT, related_name="rationale_hide")
    hidden_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    hidden_at = models.DateTimeField()
    reason = models.TextField(max_length=2000)

    def __str__(self) -> str:
        return f"rationale of forecast {self.forecast_id} hidden by {self.hidden_by_id}"
