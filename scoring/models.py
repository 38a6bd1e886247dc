"""How forecasts are judged: one Score row per (question, forecaster or crowd aggregate), and the
materialised leaderboards built from them. Both are derived data, rebuilt from the forecasts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from questions.models import Question


def _null_or_within(field: str, high: float, name: str) -> models.CheckConstraint:
    """A check that `field` is null or within [0, high]."""
    return models.CheckConstraint(
        condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": 0, f"{field}__lte": high}), name=name
    )


class Score(models.Model):
    """Scores of one forecaster (or one crowd aggregate, with user null) on one resolved question.

    Brier figures are two-sided, on the 0..2 scale. A numeric or date question has no Brier: its
    accuracy figures are the CRPS ones instead (crps_final, crps_mean, relative_crps: the CRPS in
    range units, 0..1, lower is better), and brier_final, brier_mean and relative_brier are null; a
    binary or multiple-choice question has the CRPS trio null. baseline, peer, participation and
    coverage are set for every question. `final_probabilities` is the final standing forecast: the
    probability vector, or the 201-point CDF of a numeric or date question. Rows are derived data:
    the scoring job replaces them wholesale, so recomputing from the forecasts always gives the same
    rows.
    """

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="scores")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="scores"
    )
    crowd_method = models.CharField(max_length=32, blank=True, help_text="Empty for a person.")
    brier_final = models.FloatField(null=True)
    brier_mean = models.FloatField(null=True)
    participation = models.FloatField()
    relative_brier = models.FloatField(null=True, help_text="Null on a numeric or date question.")
    crps_final = models.FloatField(null=True, help_text="Numeric/date: CRPS (range units) of the final forecast.")
    crps_mean = models.FloatField(null=True, help_text="Numeric/date: time-averaged CRPS over active time.")
    relative_crps = models.FloatField(null=True, help_text="Numeric/date: CRPS relative to the crowd median's.")
    baseline = models.FloatField()
    peer = models.FloatField()
    coverage = models.FloatField()
    final_probabilities = models.JSONField(null=True)
    resolution_version = models.PositiveIntegerField()
    resolved_at = models.DateTimeField()
    computed_at = models.DateTimeField()

    class Meta:
        db_table = "forecasts_score"  # created by the forecasts app; moved here without a table change
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
            _null_or_within("brier_final", 2, "score_brier_final_range"),
            _null_or_within("brier_mean", 2, "score_brier_mean_range"),
            models.CheckConstraint(
                condition=Q(participation__gte=0, participation__lte=1), name="score_participation_range"
            ),
            # Either the Brier trio (binary, multiple choice) or the CRPS trio (numeric, date): the
            # relative score always set, the other family all null.
            models.CheckConstraint(
                condition=(
                    Q(relative_brier__isnull=False, crps_final__isnull=True, crps_mean__isnull=True)
                    & Q(relative_crps__isnull=True)
                    | Q(relative_crps__isnull=False, brier_final__isnull=True, brier_mean__isnull=True)
                    & Q(relative_brier__isnull=True)
                ),
                name="score_brier_or_crps",
            ),
            _null_or_within("crps_final", 1, "score_crps_final_range"),  # CRPS in range units: 0..1
            _null_or_within("crps_mean", 1, "score_crps_mean_range"),
        ]

    def __str__(self) -> str:
        who = f"user {self.user_id}" if self.user_id else f"crowd {self.crowd_method}"
        return f"{who} on {self.question_id}"


class LeaderboardEntry(models.Model):
    """One materialised leaderboard row: a forecaster's (or, with user null, a crowd aggregate's)
    figures over the scored questions of one scope (scoring.md section 5).

    Derived data, replaced wholesale per scope after every scoring job (a question's own board by
    the scoring job, with its scores; the series and global boards by
    scoring.leaderboards.leaderboards_recompute), so that a read is one indexed query. `scope_key`
    is "global", "series:<id>" or "question:<id>". The `rank_*` columns hold the competition rank (ties within
    1e-9 share a rank) by each rank key among the users with at least the scope's default
    `min_questions`; they are null for the crowd and for users below that threshold.

    `questions` counts every scored question; baseline_sum and peer_sum add all of them (log scores
    on one scale). The Brier family is over binary and multiple-choice questions only
    (relative_brier_sum is 0 and relative_brier_mean, its interval and brier_mean are null when the
    entry has none), the CRPS family over numeric and date questions only (`crps_questions` of them;
    relative_crps_sum 0 and relative_crps_mean null when there are none). The two are never added
    together, and the relative-Brier rank keys ignore numeric and date questions (an entry without
    a Brier question ranks last, tied, on relative_brier_mean and brier_mean), except on a board
    where no entry has a Brier question (a numeric or date question's own board), which those keys
    rank by relative CRPS (scoring.figures.rank_entries).
    """

    scope_key = models.CharField(max_length=40)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="leaderboard_entries"
    )
    crowd_method = models.CharField(max_length=32, blank=True, help_text="Empty for a person.")
    questions = models.PositiveIntegerField()
    relative_brier_sum = models.FloatField()
    relative_brier_mean = models.FloatField(null=True)
    relative_brier_mean_ci_low = models.FloatField(null=True)
    relative_brier_mean_ci_high = models.FloatField(null=True)
    brier_mean = models.FloatField(null=True)
    brier_mean_ci_low = models.FloatField(null=True)
    brier_mean_ci_high = models.FloatField(null=True)
    participation_mean = models.FloatField()
    baseline_sum = models.FloatField()
    peer_sum = models.FloatField()
    crps_questions = models.PositiveIntegerField(default=0, help_text="Numeric and date questions among `questions`.")
    relative_crps_sum = models.FloatField(default=0.0)
    relative_crps_mean = models.FloatField(null=True)
    rank_relative_brier_sum = models.PositiveIntegerField(null=True)
    rank_relative_brier_mean = models.PositiveIntegerField(null=True)
    rank_brier_mean = models.PositiveIntegerField(null=True)
    rank_peer_sum = models.PositiveIntegerField(null=True)
    rank_baseline_sum = models.PositiveIntegerField(null=True)
    updated_at = models.DateTimeField()

    class Meta:
        db_table = "forecasts_leaderboardentry"
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
            models.CheckConstraint(
                condition=Q(crps_questions__lte=models.F("questions")), name="leaderboard_entry_crps_questions"
            ),
        ]

    def __str__(self) -> str:
        who = f"user {self.user_id}" if self.user_id else f"crowd {self.crowd_method}"
        return f"{self.scope_key}: {who}"
