"""What is answered and how it is judged: forecasts (append-only), the crowd's history, scores,
and the materialised leaderboards."""

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
    columns so that the database itself enforces the rules of scoring.md section 1.
    """

    class Kind(models.TextChoices):
        FORECAST = "forecast"
        WITHDRAWAL = "withdrawal"

    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="forecasts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="forecasts")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.FORECAST)
    created_at = models.DateTimeField(db_index=True)
    probabilities = models.JSONField(null=True, blank=True)
    p_min = models.FloatField(null=True, blank=True)
    p_max = models.FloatField(null=True, blank=True)
    p_sum = models.FloatField(null=True, blank=True)
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
                        p_min__gte=P_MIN,
                        p_max__lte=P_MAX,
                        p_min__lte=F("p_max"),
                        p_sum__gte=1 - SUM_TOLERANCE,
                        p_sum__lte=1 + SUM_TOLERANCE,
                    )
                    | Q(kind="withdrawal", probabilities__isnull=True, p_min__isnull=True, p_max__isnull=True)
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
    probabilities = models.JSONField(null=True, help_text="Null while nobody has a standing forecast.")
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


class Score(models.Model):
    """Scores of one forecaster (or one crowd aggregate, with user null) on one resolved question.

    Brier figures are two-sided, on the 0..2 scale. Rows are derived data: the scoring job replaces
    them wholesale, so recomputing from the forecasts always gives the same rows.
    """

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="scores")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="scores"
    )
    crowd_method = models.CharField(max_length=32, blank=True, help_text="Empty for a person.")
    brier_final = models.FloatField(null=True)
    brier_mean = models.FloatField(null=True)
    participation = models.FloatField()
    relative_brier = models.FloatField()
    baseline = models.FloatField()
    peer = models.FloatField()
    coverage = models.FloatField()
    final_probabilities = models.JSONField(null=True)
    resolution_version = models.PositiveIntegerField()
    resolved_at = models.DateTimeField()
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["user", "resolved_at"]),
            models.Index(fields=["crowd_method", "resolved_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["question", "user"], condition=Q(user__isnull=False), name="score_unique_user"
            ),
            models.UniqueConstraint(
                fields=["question", "crowd_method"], condition=Q(user__isnull=True), name="score_unique_crowd"
            ),
            models.CheckConstraint(
                condition=(Q(user__isnull=False, crowd_method="") | Q(user__isnull=True) & ~Q(crowd_method="")),
                name="score_person_or_crowd",
            ),
            models.CheckConstraint(
                condition=Q(brier_final__isnull=True) | Q(brier_final__gte=0, brier_final__lte=2),
                name="score_brier_final_range",
            ),
            models.CheckConstraint(
                condition=Q(brier_mean__isnull=True) | Q(brier_mean__gte=0, brier_mean__lte=2),
                name="score_brier_mean_range",
            ),
            models.CheckConstraint(
                condition=Q(participation__gte=0, participation__lte=1), name="score_participation_range"
            ),
        ]

    def __str__(self) -> str:
        who = f"user {self.user_id}" if self.user_id else f"crowd {self.crowd_method}"
        return f"{who} on {self.question_id}"


class LeaderboardEntry(models.Model):
    """One materialised leaderboard row: a forecaster's (or, with user null, a crowd aggregate's)
    figures over the scored questions of one scope (scoring.md section 5).

    Derived data, replaced wholesale per scope by forecasts.leaderboards.leaderboards_recompute
    after every scoring job, so that a read is one indexed query. `scope_key` is "global",
    "series:<id>" or "question:<id>". The `rank_*` columns hold the competition rank (ties within
    1e-9 share a rank) by each rank key among the users with at least the scope's default
    `min_questions`; they are null for the crowd and for users below that threshold.
    """

    scope_key = models.CharField(max_length=40)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="leaderboard_entries"
    )
    crowd_method = models.CharField(max_length=32, blank=True, help_text="Empty for a person.")
    questions = models.PositiveIntegerField()
    relative_brier_sum = models.FloatField()
    relative_brier_mean = models.FloatField()
    relative_brier_mean_ci_low = models.FloatField()
    relative_brier_mean_ci_high = models.FloatField()
    brier_mean = models.FloatField(null=True)
    brier_mean_ci_low = models.FloatField(null=True)
    brier_mean_ci_high = models.FloatField(null=True)
    participation_mean = models.FloatField()
    baseline_sum = models.FloatField()
    peer_sum = models.FloatField()
    rank_relative_brier_sum = models.PositiveIntegerField(null=True)
    rank_relative_brier_mean = models.PositiveIntegerField(null=True)
    rank_brier_mean = models.PositiveIntegerField(null=True)
    rank_peer_sum = models.PositiveIntegerField(null=True)
    rank_baseline_sum = models.PositiveIntegerField(null=True)
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["scope_key", "rank_relative_brier_sum", "user"], name="lb_rank_rel_sum"),
            models.Index(fields=["scope_key", "rank_relative_brier_mean", "user"], name="lb_rank_rel_mean"),
            models.Index(fields=["scope_key", "rank_brier_mean", "user"], name="lb_rank_brier_mean"),
            models.Index(fields=["scope_key", "rank_peer_sum", "user"], name="lb_rank_peer_sum"),
            models.Index(fields=["scope_key", "rank_baseline_sum", "user"], name="lb_rank_baseline_sum"),
            models.Index(fields=["scope_key", "questions"], name="lb_scope_questions"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["scope_key", "user"], condition=Q(user__isnull=False), name="leaderboard_entry_unique_user"
            ),
            models.UniqueConstraint(
                fields=["scope_key", "crowd_method"],
                condition=Q(user__isnull=True),
                name="leaderboard_entry_unique_crowd",
            ),
            models.CheckConstraint(
                condition=(Q(user__isnull=False, crowd_method="") | Q(user__isnull=True) & ~Q(crowd_method="")),
                name="leaderboard_entry_person_or_crowd",
            ),
            models.CheckConstraint(condition=Q(questions__gte=1), name="leaderboard_entry_has_questions"),
        ]

    def __str__(self) -> str:
        who = f"user {self.user_id}" if self.user_id else f"crowd {self.crowd_method}"
        return f"{self.scope_key}: {who}"
