"""`manage.py rescore`: recompute every score from the forecasts, then every leaderboard.

Runs the scoring job (forecasts.services.question_scores_write) on every resolved question and on
every question that still has score rows or stale scores (which the job clears), then rebuilds
every materialised leaderboard once. Both steps are idempotent, so it is safe to rerun at any
time; a progress bar goes to standard error unless --quiet."""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand
from django.db.models import F, Q

from forecasts.leaderboards import leaderboards_recompute_all
from forecasts.models import Score
from forecasts.services import question_scores_write
from questions.models import Question


class ProgressBar:
    def __init__(self, label: str, total: int, *, quiet: bool, width: int = 30):
        self.label, self.total, self.quiet, self.width = label, total, quiet, width
        self.start = time.monotonic()

    def update(self, done: int) -> None:
        if self.quiet:
            return
        share = done / self.total if self.total else 1.0
        filled = int(round(share * self.width))
        bar = "#" * filled + "-" * (self.width - filled)
        elapsed = time.monotonic() - self.start
        sys.stderr.write(f"\r{self.label:<13} [{bar}] {done}/{self.total} {elapsed:6.1f}s")
        if done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


class Command(BaseCommand):
    help = "Recompute every score and leaderboard from the stored forecasts (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--quiet", action="store_true", help="no progress bar")

    def handle(self, *args, **options) -> None:
        quiet = options["quiet"]
        scored = set(Score.objects.values_list("question_id", flat=True).distinct())
        ids = sorted(
            set(
                Question.objects.filter(
                    Q(state=Question.State.RESOLVED) | ~Q(scored_version=F("resolution_version"))
                ).values_list("id", flat=True)
            )
            | scored
        )
        bar = ProgressBar("scores", len(ids), quiet=quiet)
        rows = 0
        bar.update(0)
        for i, qid in enumerate(ids, 1):
            rows += question_scores_write(question_id=qid)
            bar.update(i)
        lb = ProgressBar("leaderboards", 1, quiet=quiet)
        lb.update(0)

        def progress(done: int, total: int) -> None:
            lb.total = total
            lb.update(done)

        leaderboards_recompute_all(progress=progress)
        self.stdout.write(f"rescored {len(ids)} questions ({rows} score rows); leaderboards rebuilt")
