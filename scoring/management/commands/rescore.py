"""`manage.py rescore`: recompute every score from the forecasts, then every leaderboard.

Scores every resolved question and every question that still has score rows or stale scores
(which the job clears), in chunks of questions: each chunk is one transaction that locks its
question rows, reads all their forecasts in one query, runs the engine per question and replaces
their score rows with one DELETE and one COPY (scoring.services.questions_scores_write; numeric
and date questions alike, their CDFs read by a second bulk query), and their question boards the
same way. Then the other materialised leaderboards (global, the series) are rebuilt once. Both steps are idempotent, so it is safe to rerun
at any time; a progress bar goes to standard error unless --quiet.

--processes N runs the chunks in N local processes (one per core), the last ones smaller so that the
processes finish together; then the series boards in N processes while this process rebuilds the
global board, its bootstrap shared with N - 1 helper processes (the same numbers as one process:
each sample's interval depends only on its values and the seed). --fanout enqueues them instead,
as a Celery group whose chord callback rebuilds the leaderboards once all chunks are done, so any
number of workers on any hosts share the work; --wait blocks until the callback has run.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from contextlib import nullcontext, suppress

from django.core.management.base import BaseCommand
from django.db.models import F, Q

from forecast_math.leaderboard_math import bootstrap_mean_intervals, bootstrap_parts, samples_pack, samples_unpack
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


def score_chunks(ids: list[int], size: int, processes: int) -> list[list[int]]:
    """`ids` in chunks of `size`, taken in order; with several processes the last
    `processes * size` ids in chunks of a quarter of that, so that the processes finish at about
    the same time (the leaderboards wait for the last chunk) for a few more transactions."""
    tail = processes * size if processes > 1 and size >= 4 else 0
    head = max(0, len(ids) - tail)
    small = max(1, size // 4)
    return [ids[i : i + size] for i in range(0, head, size)] + [
        ids[i : i + small] for i in range(head, len(ids), small)
    ]


def _chunk_job(ids: list[int]) -> tuple[int, int, int, float]:
    """Runs in a pool process: score one chunk; returns (questions, rows, pid, the pid's peak MiB)."""
    return len(ids), questions_scores_write(question_ids=ids), os.getpid(), _peak_mib()


def _scopes_job(keys: list[str]) -> tuple[int, int, float]:
    return leaderboards_recompute_scopes(keys), os.getpid(), _peak_mib()


def _helper_loop(conn) -> None:
    """A helper process: bootstrap intervals of parts of a board's samples, one request at a time
    on `conn` ((flat, lengths, replicates, seed), samples_pack's form), until None."""
    while (job := conn.recv()) is not None:
        flat, lengths, replicates, seed = job
        cis = bootstrap_mean_intervals(samples_unpack(flat, lengths), replicates=replicates, seed=seed, threads=1)
        conn.send((cis, os.getpid(), _peak_mib()))
    conn.close()


class Helpers:
    """`count` helper processes forked now (plain processes and pipes: no thread of this process
    runs while they, or a pool forked after them, are forked), ended on leaving the block."""

    def __init__(self, ctx, count: int):
        self.conns, self.procs = [], []
        for _ in range(count):
            conn, child = ctx.Pipe()
            proc = ctx.Process(target=_helper_loop, args=(child,), daemon=True)
            proc.start()
            child.close()
            self.conns.append(conn)
            self.procs.append(proc)

    def __enter__(self) -> Helpers:
        return self

    def __exit__(self, *exc) -> None:
        for conn, proc in zip(self.conns, self.procs, strict=True):
            with suppress(OSError):  # a helper that has died
                conn.send(None)
            proc.join(timeout=5)
            if proc.is_alive():  # pragma: no cover
                proc.terminate()
            conn.close()


#: samples with fewer values than this in all are not worth sending to another process
_SHARE_MIN = 2000


class SharedIntervals:
    """bootstrap_mean_intervals with the samples shared between this process and the helper
    processes (forecast_math.bootstrap_parts: parts of about equal work); every sample's interval
    is its own (the same seed and resampling indices wherever it is computed), so the numbers are
    those of one process. This process computes the first part while the helpers compute the
    others, each in one thread (the processes already use the cores)."""

    def __init__(self, helpers: Helpers, peaks: dict[int, float]):
        self.conns, self.peaks = helpers.conns, peaks

    def __call__(self, samples, *, replicates: int, seed: int) -> list[tuple[float, float]]:
        if not self.conns or sum(len(v) for v in samples) < _SHARE_MIN:
            return bootstrap_mean_intervals(samples, replicates=replicates, seed=seed)
        parts = bootstrap_parts(samples, len(self.conns) + 1)
        for conn, part in zip(self.conns, parts[1:], strict=True):
            conn.send((*samples_pack([samples[i] for i in part]), replicates, seed))
        out: list = [None] * len(samples)
        mine = bootstrap_mean_intervals([samples[i] for i in parts[0]], replicates=replicates, seed=seed, threads=1)
        for i, ci in zip(parts[0], mine, strict=True):
            out[i] = ci
        for conn, part in zip(self.conns, parts[1:], strict=True):
            cis, pid, peak = conn.recv()
            self.peaks[pid] = max(self.peaks.get(pid, 0.0), peak)
            for i, ci in zip(part, cis, strict=True):
                out[i] = ci
        return out


class Command(BaseCommand):
    help = "Recompute every score and leaderboard from the stored forecasts (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--quiet", action="store_true", help="no progress bar")
        parser.add_argument(
            "--chunk-size", type=int, default=50, help="questions per transaction, at most (default 50)"
        )
        parser.add_argument("--processes", type=int, default=1, help="local processes scoring chunks (default 1)")
        parser.add_argument("--fanout", action="store_true", help="enqueue the chunks as a Celery group instead")
        parser.add_argument(
            "--wait", action="store_true", help="with --fanout: wait until the leaderboards are rebuilt"
        )

    def _leaderboards_in_pool(self, processes: int, progress, child_peaks: list[float]) -> None:
        """The scopes shared among local processes, each scope its own transaction under its
        advisory lock, exactly as leaderboards_recompute_all does one after another: the series
        in a pool of `processes`, and the global scope, the largest, in this process at the same
        time, its bootstrap shared with `processes - 1` helper processes (SharedIntervals: the
        same numbers as one process)."""
        import multiprocessing

        from django.db import connections

        keys = leaderboard_scope_keys(questions=False)  # the scoring chunks wrote the question boards
        series = [keys[i : i + 25] for i in range(1, len(keys), 25)]
        connections.close_all()  # the processes are forked without a connection; they open their own
        ctx = multiprocessing.get_context("fork")
        peaks: dict[int, float] = {}
        with Helpers(ctx, processes - 1) as helpers, ctx.Pool(processes) if series else nullcontext() as pool:
            pending = pool.imap_unordered(_scopes_job, series) if series else iter(())
            done = leaderboards_recompute_scopes(keys[:1], intervals=SharedIntervals(helpers, peaks))
            progress(done, len(keys))
            for n, pid, peak in pending:
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
        chunks = score_chunks(ids, size, options["processes"])
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
