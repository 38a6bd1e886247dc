"""`manage.py rescore`: recompute every score from the forecasts, then every leaderboard.

Scores every resolved question and every question that still has score rows or stale scores
(which the job clears), in chunks of questions: each chunk is one transaction that locks its
question rows, reads all their forecasts in one query, runs the engine per question and replaces
their score rows with one DELETE and one COPY (scoring.services.questions_scores_write; numeric
and date questions alike, their CDFs read by a second bulk query), and their question boards the
same way. Then the other materialised leaderboards (global, the series) are rebuilt once. Both steps are idempotent, so it is safe to rerun
at any time; a progress bar goes to standard error unless --quiet.

--processes N runs the chunks in N local processes (one per core). --fanout enqueues them instead,
as a Celery group whose chord callback rebuilds the leaderboards once all chunks are done, so any
number of workers on any hosts share the work; --wait blocks until the callback has run.
"""

from __future__ import annotations

import os
import resource
import sys
import time

from django.core.management.base import BaseCommand
from django.db.models import F, Q

from questions.models import Question
from scoring.leaderboards import leaderboard_scope_keys, leaderboards_recompute_all, leaderboards_recompute_scopes
from scoring.models import Score
from scoring.services import questions_scores_write


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


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _chunk_job(ids: list[int]) -> tuple[int, int, int, float]:
    """Runs in a pool process: score one chunk; returns (questions, rows, pid, the pid's peak MiB)."""
    return len(ids), questions_scores_write(question_ids=ids), os.getpid(), _peak_mib()


def _scopes_job(keys: list[str]) -> tuple[int, int, float]:
    return leaderboards_recompute_scopes(keys), os.getpid(), _peak_mib()


class Command(BaseCommand):
    help = "Recompute every score and leaderboard from the stored forecasts (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--quiet", action="store_true", help="no progress bar")
        parser.add_argument("--chunk-size", type=int, default=50, help="questions per transaction (default 50)")
        parser.add_argument("--processes", type=int, default=1, help="local processes scoring chunks (default 1)")
        parser.add_argument("--fanout", action="store_true", help="enqueue the chunks as a Celery group instead")
        parser.add_argument(
            "--wait", action="store_true", help="with --fanout: wait until the leaderboards are rebuilt"
        )

    def _leaderboards_in_pool(self, processes: int, progress, child_peaks: list[float]) -> None:
        """The scopes shared among `processes` local processes (each scope its own transaction
        under its advisory lock, exactly as leaderboards_recompute_all does one after another);
        the global scope, the largest, goes first."""
        import multiprocessing

        from django.db import connections

        keys = leaderboard_scope_keys(questions=False)  # the scoring chunks wrote the question boards
        parts = [keys[:1]] + [keys[i : i + 25] for i in range(1, len(keys), 25)]
        connections.close_all()
        done = 0
        peaks: dict[int, float] = {}
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            for n, pid, peak in pool.imap_unordered(_scopes_job, parts):
                done += n
                peaks[pid] = max(peaks.get(pid, 0.0), peak)
                progress(done, len(keys))
        child_peaks.extend(peaks.values())

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
        size = max(1, options["chunk_size"])
        from django.db import connection

        if connection.vendor != "postgresql":
            options["processes"] = 1  # SQLite (the embedded demo) takes one writer at a time
        if options["fanout"]:
            from scoring.tasks import rescore_fanout

            result = rescore_fanout(ids, chunk_size=size)
            self.stdout.write(f"enqueued {len(ids)} questions in {(len(ids) + size - 1) // size} chunk jobs")
            if options["wait"]:
                result.get(timeout=3600, propagate=True)
                self.stdout.write("leaderboards rebuilt")
            return
        t_start = time.perf_counter()
        chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
        bar = ProgressBar("scores", len(ids), quiet=quiet)
        rows = done = 0
        child_peaks: list[float] = []  # peak MiB of each scoring pool process
        lb_peaks: list[float] = []  # and of each leaderboard pool process
        bar.update(0)
        if options["processes"] > 1 and len(chunks) > 1:
            import multiprocessing

            from django.db import connections

            connections.close_all()  # the children open their own connections
            ctx = multiprocessing.get_context("fork")
            peaks: dict[int, float] = {}
            with ctx.Pool(options["processes"]) as pool:
                for n_q, n_rows, pid, peak in pool.imap_unordered(_chunk_job, chunks):
                    done, rows = done + n_q, rows + n_rows
                    peaks[pid] = max(peaks.get(pid, 0.0), peak)
                    bar.update(done)
            child_peaks = list(peaks.values())
        else:
            for chunk in chunks:
                rows += questions_scores_write(question_ids=chunk)
                done += len(chunk)
                bar.update(done)
        t_scored = time.perf_counter()
        lb = ProgressBar("leaderboards", 1, quiet=quiet)
        lb.update(0)

        def progress(done: int, total: int) -> None:
            lb.total = total
            lb.update(done)

        if options["processes"] > 1:
            self._leaderboards_in_pool(options["processes"], progress, lb_peaks)
        else:
            leaderboards_recompute_all(progress=progress, questions=False)
        self.stdout.write(f"rescored {len(ids)} questions ({rows} score rows); leaderboards rebuilt")
        if options["verbosity"] >= 2:
            peak = _peak_mib() + max(sum(child_peaks), sum(lb_peaks))
            t_end = time.perf_counter()
            self.stdout.write(
                f"timing: scores {t_scored - t_start:.2f} s, leaderboards {t_end - t_scored:.2f} s; "
                f"peak memory (this process + pool processes, upper bound): {peak:.0f} MiB"
            )
